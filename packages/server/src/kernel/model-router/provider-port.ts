import type { TenantContext } from '../../shared/context/index.js';

/**
 * The provider port (spec §23): what the router needs from an LLM provider. `runtime/providers`
 * implements it for each vendor; the kernel never imports the runtime, so `app/` plugs them in.
 */

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/** A tool call the model asked for; `argumentsJson` is the raw JSON text of its arguments. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly argumentsJson: string;
}

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
  /** On assistant messages: the tool calls the model made in that turn. */
  readonly toolCalls?: readonly ToolCall[];
  /** On tool messages: the call this message answers. */
  readonly toolCallId?: string;
  /** On tool messages: the tool's name (Gemini and Ollama key results by name). */
  readonly name?: string;
}

/** A tool offered to the model; `parameters` is a JSON Schema object. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

export interface ChatOptions {
  /** The vendor's model name (without the `provider:` prefix). */
  readonly model: string;
  readonly maxOutputTokens?: number;
  readonly temperature?: number;
  readonly stopSequences?: readonly string[];
  /** Ask for the model's reasoning where the vendor supports it; the budget is in tokens. */
  readonly thinkingBudgetTokens?: number;
  readonly signal?: AbortSignal;
}

export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Input tokens served from the vendor's prompt cache (a subset of `inputTokens`). */
  readonly cachedInputTokens: number;
}

export type StopReason = 'end' | 'tool_calls' | 'max_tokens' | 'stop_sequence' | 'aborted';

/** The stream chunk union of spec §23. */
export type StreamChunk =
  | { readonly type: 'text_delta'; readonly text: string }
  | { readonly type: 'thinking'; readonly text: string }
  | { readonly type: 'tool_call_start'; readonly index: number; readonly id: string; readonly name: string }
  | { readonly type: 'tool_call_delta'; readonly index: number; readonly argumentsDelta: string }
  | { readonly type: 'tool_result'; readonly toolCallId: string; readonly content: string }
  | { readonly type: 'done'; readonly usage: Usage; readonly stopReason: StopReason };

export interface ChatResponse {
  readonly text: string;
  readonly thinking: string;
  readonly toolCalls: readonly ToolCall[];
  readonly usage: Usage;
  readonly stopReason: StopReason;
}

/** One LLM vendor (or a local engine). Both methods honour `options.signal`. */
export interface ModelProvider {
  /** The provider's name as used in model references (`anthropic`, `openai`, `scripted` ...). */
  readonly name: string;
  /** The whole answer; a provider may ask its vendor for it whole or streamed, the answer is the same. */
  chat(messages: readonly ChatMessage[], tools: readonly ToolDefinition[], options: ChatOptions): Promise<ChatResponse>;
  chatStream(
    messages: readonly ChatMessage[],
    tools: readonly ToolDefinition[],
    options: ChatOptions,
  ): AsyncIterable<StreamChunk>;
}

/** Folds a chunk stream into one response; providers whose `chat` streams use it so `chat` and `chatStream` agree. */
export async function collectStream(stream: AsyncIterable<StreamChunk>): Promise<ChatResponse> {
  let text = '';
  let thinking = '';
  const calls = new Map<number, { id: string; name: string; argumentsJson: string }>();
  for await (const chunk of stream) {
    switch (chunk.type) {
      case 'text_delta':
        text += chunk.text;
        break;
      case 'thinking':
        thinking += chunk.text;
        break;
      case 'tool_call_start':
        calls.set(chunk.index, { id: chunk.id, name: chunk.name, argumentsJson: '' });
        break;
      case 'tool_call_delta': {
        const call = calls.get(chunk.index);
        if (call) call.argumentsJson += chunk.argumentsDelta;
        break;
      }
      case 'tool_result':
        break;
      case 'done':
        return {
          text,
          thinking,
          toolCalls: [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call),
          usage: chunk.usage,
          stopReason: chunk.stopReason,
        };
    }
  }
  throw new Error('stream ended without a done chunk');
}

/** Finds the provider for a tenant (the tenant's own key may select its own client). */
export interface ProviderResolver {
  resolve(ctx: TenantContext, provider: string): Promise<ModelProvider>;
}
