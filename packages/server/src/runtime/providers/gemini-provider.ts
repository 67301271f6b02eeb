import { ApiError, FunctionResponse, GoogleGenAI, type Content, type FunctionDeclaration, type GenerateContentParameters, type GenerateContentResponse, type GenerateContentResponseUsageMetadata, type Part } from '@google/genai';

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
import { toProviderError } from './provider-errors.js';
import { defaultProviderFetch, type ProviderFetch } from './provider-fetch.js';
import { asksForWholeResponse, DEFAULT_WHOLE_RESPONSE_MAX_TOKENS } from './whole-response.js';

export interface GeminiProviderOptions {
  readonly apiKey: string;
  readonly baseUrl?: string;
  readonly timeoutMs?: number;
  /** The HTTP client the SDK uses; defaults to the shared `createProviderFetch()` transport. */
  readonly fetch?: ProviderFetch;
  /** `chat` asks for a whole response when the call caps its output at this many tokens or fewer (see `DEFAULT_WHOLE_RESPONSE_MAX_TOKENS`); 0 always streams. */
  readonly wholeResponseMaxTokens?: number;
}

function toContents(messages: readonly ChatMessage[]): { system: string; contents: Content[] } {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
  const contents: Content[] = [];
  for (const message of messages) {
    if (message.role === 'system') continue;
    if (message.role === 'tool') {
      const functionResponse = new FunctionResponse();
      functionResponse.name = message.name ?? '';
      functionResponse.response = { output: message.content };
      if (message.toolCallId) functionResponse.id = message.toolCallId;
      const part: Part = { functionResponse };
      contents.push({ role: 'user', parts: [part] });
    } else if (message.role === 'assistant') {
      const parts: Part[] = message.content ? [{ text: message.content }] : [];
      for (const call of message.toolCalls ?? []) {
        parts.push({ functionCall: { id: call.id, name: call.name, args: JSON.parse(call.argumentsJson || '{}') as Record<string, unknown> } });
      }
      contents.push({ role: 'model', parts });
    } else {
      contents.push({ role: 'user', parts: [{ text: message.content }] });
    }
  }
  return { system, contents };
}

/** Thoughts count as output: Gemini bills them as such. */
function usageOf(meta: GenerateContentResponseUsageMetadata): ChatResponse['usage'] {
  return {
    inputTokens: meta.promptTokenCount ?? 0,
    outputTokens: (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0),
    cachedInputTokens: meta.cachedContentTokenCount ?? 0,
  };
}

function stopReasonOf(reason: string | undefined, sawToolCall: boolean): StopReason {
  if (sawToolCall) return 'tool_calls';
  if (reason === 'MAX_TOKENS') return 'max_tokens';
  return 'end';
}

/**
 * Google Gemini through the official `@google/genai` SDK. Gemini sends each function call whole
 * (not in deltas), so each becomes one `tool_call_start` and one `tool_call_delta`.
 */
export class GeminiProvider implements ModelProvider {
  readonly name = 'google';
  readonly #client: GoogleGenAI;
  readonly #wholeResponseMaxTokens: number;

  constructor(options: GeminiProviderOptions) {
    this.#client = new GoogleGenAI({
      apiKey: options.apiKey,
      httpOptions: {
        timeout: options.timeoutMs ?? 120_000,
        retryOptions: { attempts: 1 },
        fetch: options.fetch ?? defaultProviderFetch(),
        ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
      },
    });
    this.#wholeResponseMaxTokens = options.wholeResponseMaxTokens ?? DEFAULT_WHOLE_RESPONSE_MAX_TOKENS;
  }

  /** A whole response for a short answer (see `asksForWholeResponse`), else the stream collected. */
  async chat(messages: readonly ChatMessage[], tools: readonly ToolDefinition[], options: ChatOptions): Promise<ChatResponse> {
    if (!asksForWholeResponse(options, this.#wholeResponseMaxTokens)) return collectStream(this.chatStream(messages, tools, options));
    let response: GenerateContentResponse;
    try {
      response = await this.#client.models.generateContent(this.#params(messages, tools, options));
    } catch (error) {
      throw this.#providerError(error, options);
    }
    if (options.signal?.aborted) throw new ProviderAbortedError(this.name);
    const candidate = response.candidates?.[0];
    if (!candidate?.finishReason || !response.usageMetadata) throw new ProviderBadResponseError(this.name, 'the answer has no finished candidate and usage');
    let text = '';
    let thinking = '';
    const toolCalls: ChatResponse['toolCalls'][number][] = [];
    for (const part of candidate.content?.parts ?? []) {
      if (part.functionCall) {
        toolCalls.push({ id: part.functionCall.id ?? `call_${String(toolCalls.length)}`, name: part.functionCall.name ?? '', argumentsJson: JSON.stringify(part.functionCall.args ?? {}) });
      } else if (part.text) {
        if (part.thought) thinking += part.text;
        else text += part.text;
      }
    }
    return { text, thinking, toolCalls, usage: usageOf(response.usageMetadata), stopReason: stopReasonOf(candidate.finishReason, toolCalls.length > 0) };
  }

  async *chatStream(
    messages: readonly ChatMessage[],
    tools: readonly ToolDefinition[],
    options: ChatOptions,
  ): AsyncIterable<StreamChunk> {
    let usage: ChatResponse['usage'] = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
    let finish: string | undefined;
    let toolIndex = 0;
    let sawChunk = false;
    try {
      const stream = await this.#client.models.generateContentStream(this.#params(messages, tools, options));
      for await (const response of stream) {
        sawChunk = true;
        if (response.usageMetadata) usage = usageOf(response.usageMetadata);
        const candidate = response.candidates?.[0];
        if (candidate?.finishReason) finish = candidate.finishReason;
        for (const part of candidate?.content?.parts ?? []) {
          if (part.functionCall) {
            const index = toolIndex++;
            yield { type: 'tool_call_start', index, id: part.functionCall.id ?? `call_${String(index)}`, name: part.functionCall.name ?? '' };
            yield { type: 'tool_call_delta', index, argumentsDelta: JSON.stringify(part.functionCall.args ?? {}) };
          } else if (part.text) {
            yield part.thought ? { type: 'thinking', text: part.text } : { type: 'text_delta', text: part.text };
          }
        }
      }
    } catch (error) {
      throw this.#providerError(error, options);
    }
    // Some SDKs end an aborted stream quietly instead of throwing.
    if (options.signal?.aborted) throw new ProviderAbortedError(this.name);
    if (!sawChunk || finish === undefined) {
      throw toProviderError(this.name, new SyntaxError('stream ended without a finish reason'), { signal: options.signal });
    }
    yield { type: 'done', usage, stopReason: stopReasonOf(finish, toolIndex > 0) };
  }

  /** The request both forms share. */
  #params(messages: readonly ChatMessage[], tools: readonly ToolDefinition[], options: ChatOptions): GenerateContentParameters {
    const { system, contents } = toContents(messages);
    const declarations: FunctionDeclaration[] = tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      parametersJsonSchema: tool.parameters,
    }));
    return {
      model: options.model,
      contents,
      config: {
        ...(system ? { systemInstruction: system } : {}),
        ...(declarations.length > 0 ? { tools: [{ functionDeclarations: declarations }] } : {}),
        ...(options.maxOutputTokens === undefined ? {} : { maxOutputTokens: options.maxOutputTokens }),
        ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
        ...(options.stopSequences === undefined ? {} : { stopSequences: [...options.stopSequences] }),
        ...(options.thinkingBudgetTokens === undefined ? {} : { thinkingConfig: { includeThoughts: true, thinkingBudget: options.thinkingBudgetTokens } }),
        ...(options.signal === undefined ? {} : { abortSignal: options.signal }),
      },
    };
  }

  #providerError(error: unknown, options: ChatOptions): ProviderError {
    return toProviderError(this.name, error, { signal: options.signal, status: error instanceof ApiError ? error.status : undefined });
  }
}
