import { Ollama, type Message, type Tool } from 'ollama';

import {
  collectStream,
  ProviderAbortedError,
  type ChatMessage,
  type ChatOptions,
  type ChatResponse,
  type ModelProvider,
  type StreamChunk,
  type ToolDefinition,
} from '../../kernel/model-router/index.js';
import { toProviderError } from './provider-errors.js';
import { defaultProviderFetch, type ProviderFetch } from './provider-fetch.js';

export interface OllamaProviderOptions {
  /** Defaults to http://127.0.0.1:11434. */
  readonly host?: string;
  /** Sent as a bearer token for Ollama behind an authenticating proxy. */
  readonly apiKey?: string;
  /** The HTTP client the SDK uses; defaults to the shared `createProviderFetch()` transport. */
  readonly fetch?: ProviderFetch;
}

function toOllamaMessages(messages: readonly ChatMessage[]): Message[] {
  return messages.map((message) => ({
    role: message.role,
    content: message.content,
    ...(message.toolCalls && message.toolCalls.length > 0
      ? {
          tool_calls: message.toolCalls.map((call) => ({
            function: { name: call.name, arguments: JSON.parse(call.argumentsJson || '{}') as Record<string, unknown> },
          })),
        }
      : {}),
    ...(message.role === 'tool' && message.name ? { tool_name: message.name } : {}),
  }));
}

/** Ollama's chat API through the official `ollama` client (NDJSON streaming). */
export class OllamaProvider implements ModelProvider {
  readonly name = 'ollama';
  readonly #client: Ollama;

  constructor(options: OllamaProviderOptions = {}) {
    this.#client = new Ollama({
      host: options.host ?? 'http://127.0.0.1:11434',
      fetch: options.fetch ?? defaultProviderFetch(),
      ...(options.apiKey === undefined ? {} : { headers: { Authorization: `Bearer ${options.apiKey}` } }),
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
    const ollamaTools: Tool[] = tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: tool.parameters },
    }));
    let toolIndex = 0;
    let done: { inputTokens: number; outputTokens: number; reason: string | undefined } | undefined;
    // The ollama client aborts through its iterator, not a signal; bridge the two.
    let abort: (() => void) | undefined;
    const onAbort = (): void => abort?.();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      options.signal?.throwIfAborted();
      const stream = await this.#client.chat({
        model: options.model,
        messages: toOllamaMessages(messages),
        stream: true,
        ...(ollamaTools.length > 0 ? { tools: ollamaTools } : {}),
        ...(options.thinkingBudgetTokens === undefined ? {} : { think: true }),
        options: {
          ...(options.maxOutputTokens === undefined ? {} : { num_predict: options.maxOutputTokens }),
          ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
          ...(options.stopSequences === undefined ? {} : { stop: [...options.stopSequences] }),
        },
      });
      abort = () => {
        stream.abort();
      };
      if (options.signal?.aborted) stream.abort();
      for await (const part of stream) {
        if (part.message.thinking) yield { type: 'thinking', text: part.message.thinking };
        if (part.message.content) yield { type: 'text_delta', text: part.message.content };
        for (const call of part.message.tool_calls ?? []) {
          const index = toolIndex++;
          yield { type: 'tool_call_start', index, id: `call_${String(index)}`, name: call.function.name };
          yield { type: 'tool_call_delta', index, argumentsDelta: JSON.stringify(call.function.arguments) };
        }
        if (part.done) {
          done = { inputTokens: part.prompt_eval_count, outputTokens: part.eval_count, reason: part.done_reason };
        }
      }
    } catch (error) {
      const status = typeof error === 'object' && error !== null && 'status_code' in error ? Number(error.status_code) : undefined;
      throw toProviderError(this.name, error, { signal: options.signal, status });
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    // Some SDKs end an aborted stream quietly instead of throwing.
    if (options.signal?.aborted) throw new ProviderAbortedError(this.name);
    if (!done) throw toProviderError(this.name, new SyntaxError('stream ended without done'), { signal: options.signal });
    yield {
      type: 'done',
      usage: { inputTokens: done.inputTokens, outputTokens: done.outputTokens, cachedInputTokens: 0 },
      stopReason: toolIndex > 0 ? 'tool_calls' : done.reason === 'length' ? 'max_tokens' : 'end',
    };
  }
}
