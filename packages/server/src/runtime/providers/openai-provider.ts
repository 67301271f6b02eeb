import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';

import {
  collectStream,
  ProviderAbortedError,
  ProviderBadResponseError,
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

export interface OpenAiProviderOptions {
  /** Defaults to `openai`; set another name for an OpenAI-compatible server (`vllm`, `lmstudio`). */
  readonly name?: string;
  readonly apiKey: string;
  /** Any OpenAI-compatible endpoint (vLLM, llama.cpp server, LM Studio, OpenRouter). */
  readonly baseUrl?: string;
  readonly timeoutMs?: number;
  /** The HTTP client the SDK uses; defaults to the shared `createProviderFetch()` transport. */
  readonly fetch?: ProviderFetch;
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

function stopReasonOf(reason: string | null | undefined): StopReason {
  if (reason === 'tool_calls' || reason === 'function_call') return 'tool_calls';
  if (reason === 'length') return 'max_tokens';
  return 'end';
}

/** OpenAI Chat Completions through the official `openai` SDK, streaming with usage. */
export class OpenAiProvider implements ModelProvider {
  readonly name: string;
  readonly #client: OpenAI;

  constructor(options: OpenAiProviderOptions) {
    this.name = options.name ?? 'openai';
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

  chat(messages: readonly ChatMessage[], tools: readonly ToolDefinition[], options: ChatOptions): Promise<ChatResponse> {
    return collectStream(this.chatStream(messages, tools, options));
  }

  async *chatStream(
    messages: readonly ChatMessage[],
    tools: readonly ToolDefinition[],
    options: ChatOptions,
  ): AsyncIterable<StreamChunk> {
    const openAiTools: ChatCompletionTool[] = tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: { ...tool.parameters } },
    }));
    const argumentsByIndex = new Map<number, string>();
    let finish: string | null | undefined;
    let usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
    let sawFinish = false;
    try {
      const stream = await this.#client.chat.completions.create(
        {
          model: options.model,
          messages: toOpenAiMessages(messages),
          stream: true,
          stream_options: { include_usage: true },
          ...(openAiTools.length > 0 ? { tools: openAiTools } : {}),
          ...(options.maxOutputTokens === undefined ? {} : { max_completion_tokens: options.maxOutputTokens }),
          ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
          ...(options.stopSequences === undefined ? {} : { stop: [...options.stopSequences] }),
        },
        options.signal === undefined ? {} : { signal: options.signal },
      );
      for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
        if (chunk.usage) {
          usage = {
            inputTokens: chunk.usage.prompt_tokens,
            outputTokens: chunk.usage.completion_tokens,
            cachedInputTokens: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0,
          };
        }
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
      throw toProviderError(this.name, error, {
        signal: options.signal,
        status: error instanceof OpenAI.APIError ? (error.status as number | undefined) : undefined,
        headers: error instanceof OpenAI.APIError ? (error.headers as Headers | undefined) : undefined,
      });
    }
    // Some SDKs end an aborted stream quietly instead of throwing.
    if (options.signal?.aborted) throw new ProviderAbortedError(this.name);
    if (!sawFinish) throw new ProviderBadResponseError(this.name, 'stream ended without a finish reason');
    for (const text of argumentsByIndex.values()) assertJsonArguments(this.name, text);
    yield { type: 'done', usage, stopReason: stopReasonOf(finish) };
  }
}
