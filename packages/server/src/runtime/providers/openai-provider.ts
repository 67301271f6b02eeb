import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';

import {
  collectStream,
  ProviderAbortedError,
  ProviderBadResponseError,
  type ProviderError,
  type ChatMessage,
  type ChatOptions,
  type ChatResponse,
  type ModelProvider,
  type StopReason,
  type StreamChunk,
  type ToolDefinition,
} from '../../kernel/model-router/index.js';
import { assertJsonArguments, toProviderError } from './provider-errors.js';
import { defaultProviderFetch, type ProviderFetch } from './provider-fetch.js';
import { asksForWholeResponse, DEFAULT_WHOLE_RESPONSE_MAX_TOKENS } from './whole-response.js';

export interface OpenAiProviderOptions {
  /** Defaults to `openai`; set another name for an OpenAI-compatible server (`vllm`, `lmstudio`). */
  readonly name?: string;
  readonly apiKey: string;
  /** Any OpenAI-compatible endpoint (vLLM, llama.cpp server, LM Studio, OpenRouter). */
  readonly baseUrl?: string;
  readonly timeoutMs?: number;
  /** The HTTP client the SDK uses; defaults to the shared `createProviderFetch()` transport. */
  readonly fetch?: ProviderFetch;
  /** `chat` asks for a whole completion when the call caps its output at this many tokens or fewer (see `DEFAULT_WHOLE_RESPONSE_MAX_TOKENS`); 0 always streams. */
  readonly wholeResponseMaxTokens?: number;
}

function toOpenAiMessages(messages: readonly ChatMessage[]): ChatCompletionMessageParam[] {
  return messages.map((message): ChatCompletionMessageParam => {
    switch (message.role) {
      case 'system':
        return { role: 'system', content: message.content };
      case 'user':
        return { role: 'user', content: message.content };
      case 'tool':
        return { role: 'tool', content: message.content, tool_call_id: message.toolCallId ?? '' };
      case 'assistant':
        return message.toolCalls && message.toolCalls.length > 0
          ? {
              role: 'assistant',
              content: message.content,
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: 'function' as const,
                function: { name: call.name, arguments: call.argumentsJson },
              })),
            }
          : { role: 'assistant', content: message.content };
    }
  });
}

/** Token counts from OpenAI's usage object; a server that sends none (some compatible ones) counts zero. */
function usageOf(usage: CompletionUsage | null | undefined): ChatResponse['usage'] {
  return {
    inputTokens: usage?.prompt_tokens ?? 0,
    outputTokens: usage?.completion_tokens ?? 0,
    cachedInputTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
  };
}

function stopReasonOf(reason: string | null | undefined): StopReason {
  if (reason === 'tool_calls' || reason === 'function_call') return 'tool_calls';
  if (reason === 'length') return 'max_tokens';
  return 'end';
}

/** OpenAI Chat Completions through the official `openai` SDK: streamed with usage, or whole for short answers `chat` asks for. */
export class OpenAiProvider implements ModelProvider {
  readonly name: string;
  readonly #client: OpenAI;
  readonly #wholeResponseMaxTokens: number;

  constructor(options: OpenAiProviderOptions) {
    this.name = options.name ?? 'openai';
    this.#wholeResponseMaxTokens = options.wholeResponseMaxTokens ?? DEFAULT_WHOLE_RESPONSE_MAX_TOKENS;
    // Retries belong to the router (one policy, one audit trail), so the SDK never retries.
    this.#client = new OpenAI({
      apiKey: options.apiKey,
      maxRetries: 0,
      // SDK warnings would carry model data to the console; errors reach the caller typed instead.
      logLevel: 'off',
      timeout: options.timeoutMs ?? 120_000,
      fetch: options.fetch ?? defaultProviderFetch(),
      ...(options.baseUrl === undefined ? {} : { baseURL: options.baseUrl }),
    });
  }

  /** A whole completion in one JSON body for a short answer (see `asksForWholeResponse`), else the stream collected. */
  async chat(messages: readonly ChatMessage[], tools: readonly ToolDefinition[], options: ChatOptions): Promise<ChatResponse> {
    if (!asksForWholeResponse(options, this.#wholeResponseMaxTokens)) return collectStream(this.chatStream(messages, tools, options));
    let completion: ChatCompletion;
    try {
      completion = await this.#client.chat.completions.create({ ...this.#params(messages, tools, options), stream: false }, this.#requestOptions(options));
    } catch (error) {
      throw this.#providerError(error, options);
    }
    // The SDK hands back the body as text when it is not JSON (a proxy's page, a stray stream).
    const choice = Array.isArray((completion as unknown as { choices?: unknown }).choices) ? completion.choices[0] : undefined;
    if (!choice) throw new ProviderBadResponseError(this.name, 'the answer is not a chat completion with a choice');
    const message = choice.message as typeof choice.message & { reasoning_content?: string | null; reasoning?: string | null };
    const toolCalls = (message.tool_calls ?? []).flatMap((call) =>
      call.type === 'function' ? [{ id: call.id, name: call.function.name, argumentsJson: call.function.arguments }] : [],
    );
    for (const call of toolCalls) assertJsonArguments(this.name, call.argumentsJson);
    return {
      text: message.content ?? '',
      thinking: message.reasoning_content ?? message.reasoning ?? '',
      toolCalls,
      usage: usageOf(completion.usage),
      stopReason: stopReasonOf(choice.finish_reason),
    };
  }

  async *chatStream(
    messages: readonly ChatMessage[],
    tools: readonly ToolDefinition[],
    options: ChatOptions,
  ): AsyncIterable<StreamChunk> {
    const argumentsByIndex = new Map<number, string>();
    let finish: string | null | undefined;
    let usage = usageOf(undefined);
    let sawFinish = false;
    try {
      const stream = await this.#client.chat.completions.create(
        { ...this.#params(messages, tools, options), stream: true, stream_options: { include_usage: true } },
        this.#requestOptions(options),
      );
      for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
        if (chunk.usage) usage = usageOf(chunk.usage);
        const choice = chunk.choices[0];
        if (!choice) continue;
        const delta = choice.delta as typeof choice.delta & { reasoning_content?: string; reasoning?: string };
        const reasoning = delta.reasoning_content ?? delta.reasoning;
        if (reasoning) yield { type: 'thinking', text: reasoning };
        if (delta.content) yield { type: 'text_delta', text: delta.content };
        for (const call of delta.tool_calls ?? []) {
          if (!argumentsByIndex.has(call.index)) {
            if (!call.id || !call.function?.name) {
              throw new ProviderBadResponseError(this.name, 'tool call delta before its start');
            }
            argumentsByIndex.set(call.index, '');
            yield { type: 'tool_call_start', index: call.index, id: call.id, name: call.function.name };
          }
          const piece = call.function?.arguments ?? '';
          if (piece) {
            argumentsByIndex.set(call.index, (argumentsByIndex.get(call.index) ?? '') + piece);
            yield { type: 'tool_call_delta', index: call.index, argumentsDelta: piece };
          }
        }
        if (choice.finish_reason) {
          finish = choice.finish_reason;
          sawFinish = true;
        }
      }
    } catch (error) {
      throw this.#providerError(error, options);
    }
    // Some SDKs end an aborted stream quietly instead of throwing.
    if (options.signal?.aborted) throw new ProviderAbortedError(this.name);
    if (!sawFinish) throw new ProviderBadResponseError(this.name, 'stream ended without a finish reason');
    for (const text of argumentsByIndex.values()) assertJsonArguments(this.name, text);
    yield { type: 'done', usage, stopReason: stopReasonOf(finish) };
  }

  /** The request body both forms share. */
  #params(messages: readonly ChatMessage[], tools: readonly ToolDefinition[], options: ChatOptions) {
    const openAiTools: ChatCompletionTool[] = tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: { ...tool.parameters } },
    }));
    return {
      model: options.model,
      messages: toOpenAiMessages(messages),
      ...(openAiTools.length > 0 ? { tools: openAiTools } : {}),
      ...(options.maxOutputTokens === undefined ? {} : { max_completion_tokens: options.maxOutputTokens }),
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.stopSequences === undefined ? {} : { stop: [...options.stopSequences] }),
    };
  }

  #requestOptions(options: ChatOptions): { signal?: AbortSignal } {
    return options.signal === undefined ? {} : { signal: options.signal };
  }

  #providerError(error: unknown, options: ChatOptions): ProviderError {
    return toProviderError(this.name, error, {
      signal: options.signal,
      status: error instanceof OpenAI.APIError ? (error.status as number | undefined) : undefined,
      headers: error instanceof OpenAI.APIError ? (error.headers as Headers | undefined) : undefined,
    });
  }
}
