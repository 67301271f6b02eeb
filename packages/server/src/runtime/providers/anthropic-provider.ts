import Anthropic from '@anthropic-ai/sdk';
import type { Message, MessageParam, RawMessageStreamEvent, Tool, Usage } from '@anthropic-ai/sdk/resources/messages';

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

export interface AnthropicProviderOptions {
  readonly apiKey: string;
  readonly baseUrl?: string;
  readonly timeoutMs?: number;
  /** Anthropic requires max_tokens; used when the call does not set one. */
  readonly defaultMaxOutputTokens?: number;
  /** The HTTP client the SDK uses; defaults to the shared `createProviderFetch()` transport. */
  readonly fetch?: ProviderFetch;
  /** `chat` asks for a whole message when the call caps its output at this many tokens or fewer (see `DEFAULT_WHOLE_RESPONSE_MAX_TOKENS`); 0 always streams. */
  readonly wholeResponseMaxTokens?: number;
}

function toAnthropicMessages(messages: readonly ChatMessage[]): { system: string; messages: MessageParam[] } {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
  const out: MessageParam[] = [];
  for (const message of messages) {
    if (message.role === 'system') continue;
    if (message.role === 'tool') {
      out.push({
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: message.toolCallId ?? '', content: message.content }],
      });
    } else if (message.role === 'assistant' && message.toolCalls && message.toolCalls.length > 0) {
      out.push({
        role: 'assistant',
        content: [
          ...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
          ...message.toolCalls.map((call) => ({
            type: 'tool_use' as const,
            id: call.id,
            name: call.name,
            input: JSON.parse(call.argumentsJson === '' ? '{}' : call.argumentsJson) as unknown,
          })),
        ],
      });
    } else {
      out.push({ role: message.role, content: message.content });
    }
  }
  return { system, messages: out };
}

/** Anthropic reports cached and newly cached input apart from `input_tokens`; we count all input. */
function usageOf(usage: Pick<Usage, 'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens'>): ChatResponse['usage'] {
  const cached = usage.cache_read_input_tokens ?? 0;
  return { inputTokens: usage.input_tokens + cached + (usage.cache_creation_input_tokens ?? 0), outputTokens: usage.output_tokens, cachedInputTokens: cached };
}

function stopReasonOf(reason: string | null | undefined): StopReason {
  if (reason === 'tool_use') return 'tool_calls';
  if (reason === 'max_tokens') return 'max_tokens';
  if (reason === 'stop_sequence') return 'stop_sequence';
  return 'end';
}

/** Anthropic Messages API through the official `@anthropic-ai/sdk`: streamed, or whole for short answers `chat` asks for. */
export class AnthropicProvider implements ModelProvider {
  readonly name = 'anthropic';
  readonly #client: Anthropic;
  readonly #defaultMaxOutputTokens: number;
  readonly #wholeResponseMaxTokens: number;

  constructor(options: AnthropicProviderOptions) {
    this.#client = new Anthropic({
      apiKey: options.apiKey,
      maxRetries: 0,
      // SDK warnings would carry model data to the console; errors reach the caller typed instead.
      logLevel: 'off',
      timeout: options.timeoutMs ?? 120_000,
      fetch: options.fetch ?? defaultProviderFetch(),
      ...(options.baseUrl === undefined ? {} : { baseURL: options.baseUrl }),
    });
    this.#defaultMaxOutputTokens = options.defaultMaxOutputTokens ?? 4096;
    this.#wholeResponseMaxTokens = options.wholeResponseMaxTokens ?? DEFAULT_WHOLE_RESPONSE_MAX_TOKENS;
  }

  /** A whole message for a short answer (see `asksForWholeResponse`), else the stream collected. */
  async chat(messages: readonly ChatMessage[], tools: readonly ToolDefinition[], options: ChatOptions): Promise<ChatResponse> {
    if (!asksForWholeResponse(options, this.#wholeResponseMaxTokens)) return collectStream(this.chatStream(messages, tools, options));
    let message: Message;
    try {
      message = await this.#client.messages.create({ ...this.#params(messages, tools, options), stream: false }, this.#requestOptions(options));
    } catch (error) {
      throw this.#providerError(error, options);
    }
    // The SDK hands back the body as text when it is not JSON (a proxy's page, a stray stream).
    const shaped = message as unknown as { content?: unknown; usage?: unknown };
    if (!Array.isArray(shaped.content) || typeof shaped.usage !== 'object' || shaped.usage === null) {
      throw new ProviderBadResponseError(this.name, 'the answer is not a message with content and usage');
    }
    let text = '';
    let thinking = '';
    const toolCalls: ChatResponse['toolCalls'][number][] = [];
    for (const block of message.content) {
      if (block.type === 'text') text += block.text;
      else if (block.type === 'thinking') thinking += block.thinking;
      else if (block.type === 'tool_use') toolCalls.push({ id: block.id, name: block.name, argumentsJson: JSON.stringify(block.input ?? {}) });
    }
    return { text, thinking, toolCalls, usage: usageOf(message.usage), stopReason: stopReasonOf(message.stop_reason) };
  }

  async *chatStream(
    messages: readonly ChatMessage[],
    tools: readonly ToolDefinition[],
    options: ChatOptions,
  ): AsyncIterable<StreamChunk> {
    // Anthropic numbers content blocks; tool calls are numbered among tool calls only.
    const toolIndexByBlock = new Map<number, number>();
    const argumentsByBlock = new Map<number, string>();
    let usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
    let stop: string | null | undefined;
    let stopped = false;
    try {
      const stream = await this.#client.messages.create({ ...this.#params(messages, tools, options), stream: true }, this.#requestOptions(options));
      for await (const event of stream as AsyncIterable<RawMessageStreamEvent>) {
        switch (event.type) {
          case 'message_start':
            usage = usageOf(event.message.usage);
            break;
          case 'content_block_start': {
            const block = event.content_block;
            if (block.type === 'tool_use') {
              const index = toolIndexByBlock.size;
              toolIndexByBlock.set(event.index, index);
              argumentsByBlock.set(event.index, '');
              yield { type: 'tool_call_start', index, id: block.id, name: block.name };
            } else if (block.type === 'text' && block.text) {
              yield { type: 'text_delta', text: block.text };
            }
            break;
          }
          case 'content_block_delta': {
            const delta = event.delta;
            if (delta.type === 'text_delta') yield { type: 'text_delta', text: delta.text };
            else if (delta.type === 'thinking_delta') yield { type: 'thinking', text: delta.thinking };
            else if (delta.type === 'input_json_delta') {
              const index = toolIndexByBlock.get(event.index);
              if (index === undefined) throw new ProviderBadResponseError(this.name, 'tool input delta for an unknown block');
              argumentsByBlock.set(event.index, (argumentsByBlock.get(event.index) ?? '') + delta.partial_json);
              if (delta.partial_json) yield { type: 'tool_call_delta', index, argumentsDelta: delta.partial_json };
            }
            break;
          }
          case 'message_delta':
            stop = event.delta.stop_reason;
            usage = { ...usage, outputTokens: event.usage.output_tokens };
            break;
          case 'message_stop':
            stopped = true;
            break;
          case 'content_block_stop':
            break;
        }
      }
    } catch (error) {
      throw this.#providerError(error, options);
    }
    // Some SDKs end an aborted stream quietly instead of throwing.
    if (options.signal?.aborted) throw new ProviderAbortedError(this.name);
    if (!stopped) throw new ProviderBadResponseError(this.name, 'stream ended without message_stop');
    for (const text of argumentsByBlock.values()) assertJsonArguments(this.name, text);
    yield { type: 'done', usage, stopReason: stopReasonOf(stop) };
  }

  /** The request body both forms share. */
  #params(messages: readonly ChatMessage[], tools: readonly ToolDefinition[], options: ChatOptions) {
    const converted = toAnthropicMessages(messages);
    const anthropicTools: Tool[] = tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      input_schema: { type: 'object', ...tool.parameters },
    }));
    return {
      model: options.model,
      max_tokens: options.maxOutputTokens ?? this.#defaultMaxOutputTokens,
      messages: converted.messages,
      ...(converted.system ? { system: converted.system } : {}),
      ...(anthropicTools.length > 0 ? { tools: anthropicTools } : {}),
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.stopSequences === undefined ? {} : { stop_sequences: [...options.stopSequences] }),
      ...(options.thinkingBudgetTokens === undefined ? {} : { thinking: { type: 'enabled' as const, budget_tokens: options.thinkingBudgetTokens } }),
    };
  }

  #requestOptions(options: ChatOptions): { signal?: AbortSignal } {
    return options.signal === undefined ? {} : { signal: options.signal };
  }

  #providerError(error: unknown, options: ChatOptions): ProviderError {
    return toProviderError(this.name, error, {
      signal: options.signal,
      status: error instanceof Anthropic.APIError ? (error.status as number | undefined) : undefined,
      headers: error instanceof Anthropic.APIError ? (error.headers as Headers | undefined) : undefined,
    });
  }
}
