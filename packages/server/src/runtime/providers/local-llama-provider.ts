import {
  collectStream,
  ProviderAbortedError,
  ProviderBadResponseError,
  ProviderPackageMissingError,
  type ChatMessage,
  type ChatOptions,
  type ChatResponse,
  type ModelProvider,
  type StreamChunk,
  type ToolDefinition,
} from '../../kernel/model-router/index.js';

/** The optional package; kept off the default install (~725 MB with every prebuilt variant). */
export const LLAMA_PACKAGE = 'node-llama-cpp';

/* The slice of node-llama-cpp 3.x this provider uses, typed here so the package stays optional. */
interface LlamaSequence {
  dispose(): void;
}
interface LlamaContext {
  getSequence(): LlamaSequence;
  dispose(): Promise<void>;
}
interface LlamaModel {
  createContext(options: { contextSize: number }): Promise<LlamaContext>;
  tokenize(text: string): readonly unknown[];
  dispose(): Promise<void>;
}
interface LlamaGrammar {
  parse(text: string): unknown;
}
interface Llama {
  loadModel(options: { modelPath: string }): Promise<LlamaModel>;
  createGrammarForJsonSchema(schema: Record<string, unknown>): Promise<LlamaGrammar>;
}
type ChatHistoryItem =
  | { type: 'system'; text: string }
  | { type: 'user'; text: string }
  | { type: 'model'; response: string[] };
interface LlamaChatInstance {
  generateResponse(
    history: ChatHistoryItem[],
    options: {
      maxTokens?: number;
      temperature?: number;
      signal?: AbortSignal;
      stopOnAbortSignal?: boolean;
      grammar?: LlamaGrammar;
      customStopTriggers?: string[];
      onTextChunk?: (text: string) => void;
      onToken?: (tokens: readonly unknown[]) => void;
    },
  ): Promise<{ response: string; metadata: { stopReason: string } }>;
  dispose(): void;
}
interface LlamaModule {
  getLlama(options: { gpu: false; build: 'never' }): Promise<Llama>;
  LlamaChat: new (options: { contextSequence: LlamaSequence }) => LlamaChatInstance;
}

export type LlamaModuleLoader = () => Promise<LlamaModule>;

const defaultLoader: LlamaModuleLoader = async () => {
  // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
  const specifier: string = LLAMA_PACKAGE;
  return (await import(specifier)) as LlamaModule;
};

/** Whether node-llama-cpp can be loaded here (tests skip the local provider without it). */
export async function isLlamaAvailable(loader: LlamaModuleLoader = defaultLoader): Promise<boolean> {
  try {
    await loader();
    return true;
  } catch {
    return false;
  }
}

export interface LocalLlamaProviderOptions {
  /** Loads the package; injectable so the "package missing" path is testable. */
  readonly loadModule?: LlamaModuleLoader;
  readonly contextSize?: number;
}

/**
 * Local GGUF models through node-llama-cpp, on CPU. The model name is the path of a GGUF file;
 * nothing is downloaded at run time. With tools, output is constrained by a JSON-schema grammar
 * to either `{"answer": …}` or `{"tool": <name>, "arguments": {…}}`, so a tool call always parses.
 */
export class LocalLlamaProvider implements ModelProvider {
  readonly name = 'local';
  readonly #load: LlamaModuleLoader;
  readonly #contextSize: number;
  #runtime: Promise<{ module: LlamaModule; llama: Llama }> | undefined;
  readonly #models = new Map<string, Promise<LlamaModel>>();
  // One generation at a time per provider: a tiny CPU engine gains nothing from concurrency.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: LocalLlamaProviderOptions = {}) {
    this.#load = options.loadModule ?? defaultLoader;
    this.#contextSize = options.contextSize ?? 512;
  }

  chat(messages: readonly ChatMessage[], tools: readonly ToolDefinition[], options: ChatOptions): Promise<ChatResponse> {
    return collectStream(this.chatStream(messages, tools, options));
  }

  async *chatStream(
    messages: readonly ChatMessage[],
    tools: readonly ToolDefinition[],
    options: ChatOptions,
  ): AsyncIterable<StreamChunk> {
    const chunks: StreamChunk[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: unknown;
    const push = (chunk: StreamChunk): void => {
      chunks.push(chunk);
      wake?.();
    };
    const job = this.#queue.then(() => this.#generate({ messages, tools, options }, push));
    this.#queue = job.catch(() => undefined);
    job.then(
      () => {
        finished = true;
        wake?.();
      },
      (error: unknown) => {
        failure = error;
        finished = true;
        wake?.();
      },
    );
    for (;;) {
      const next = chunks.shift();
      if (next) {
        yield next;
        continue;
      }
      if (finished) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error('local generation failed', { cause: failure });
  }

  async #generate(
    request: { messages: readonly ChatMessage[]; tools: readonly ToolDefinition[]; options: ChatOptions },
    push: (chunk: StreamChunk) => void,
  ): Promise<void> {
    const { messages, tools, options } = request;
    if (options.signal?.aborted) throw new ProviderAbortedError(this.name);
    const { module, llama } = await this.#runtimeLoaded();
    const model = await this.#model(llama, options.model);
    const context = await model.createContext({ contextSize: this.#contextSize });
    const sequence = context.getSequence();
    const chat = new module.LlamaChat({ contextSequence: sequence });
    try {
      const history = toHistory(messages, tools);
      const grammar = tools.length > 0 ? await llama.createGrammarForJsonSchema(toolGrammarSchema(tools)) : undefined;
      let generatedTokens = 0;
      const result = await chat.generateResponse(history, {
        maxTokens: options.maxOutputTokens ?? 256,
        ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
        ...(options.signal === undefined ? {} : { signal: options.signal, stopOnAbortSignal: false }),
        ...(grammar === undefined ? {} : { grammar }),
        ...(options.stopSequences === undefined ? {} : { customStopTriggers: [...options.stopSequences] }),
        onTextChunk: (text) => {
          if (!grammar) push({ type: 'text_delta', text });
        },
        onToken: (tokens) => {
          generatedTokens += tokens.length;
        },
      });
      if (options.signal?.aborted) throw new ProviderAbortedError(this.name);
      const outputTokens = generatedTokens;
      const inputTokens = model.tokenize(messages.map((m) => m.content).join('\n')).length;
      const usage = { inputTokens, outputTokens, cachedInputTokens: 0 };
      const stop = result.metadata.stopReason;
      if (grammar) {
        const parsed = parseGrammarOutput(this.name, { text: result.response, stop }, tools);
        if (parsed.kind === 'answer') {
          push({ type: 'text_delta', text: parsed.text });
          push({ type: 'done', usage, stopReason: 'end' });
        } else {
          push({ type: 'tool_call_start', index: 0, id: 'call_0', name: parsed.name });
          push({ type: 'tool_call_delta', index: 0, argumentsDelta: JSON.stringify(parsed.arguments) });
          push({ type: 'done', usage, stopReason: 'tool_calls' });
        }
        return;
      }
      push({
        type: 'done',
        usage,
        stopReason: stop === 'maxTokens' ? 'max_tokens' : stop === 'customStopTrigger' ? 'stop_sequence' : 'end',
      });
    } catch (error) {
      if (options.signal?.aborted) throw new ProviderAbortedError(this.name, error);
      throw error;
    } finally {
      chat.dispose();
      sequence.dispose();
      await context.dispose();
    }
  }

  #runtimeLoaded(): Promise<{ module: LlamaModule; llama: Llama }> {
    this.#runtime ??= (async () => {
      let module: LlamaModule;
      try {
        module = await this.#load();
      } catch (error) {
        throw new ProviderPackageMissingError(this.name, LLAMA_PACKAGE, error);
      }
      return { module, llama: await module.getLlama({ gpu: false, build: 'never' }) };
    })();
    this.#runtime.catch(() => {
      this.#runtime = undefined;
    });
    return this.#runtime;
  }

  #model(llama: Llama, path: string): Promise<LlamaModel> {
    let model = this.#models.get(path);
    if (!model) {
      model = llama.loadModel({ modelPath: path });
      model.catch(() => this.#models.delete(path));
      this.#models.set(path, model);
    }
    return model;
  }

  /** Frees every loaded model. */
  async close(): Promise<void> {
    const models = [...this.#models.values()];
    this.#models.clear();
    for (const model of models) await (await model).dispose();
  }
}

function toHistory(messages: readonly ChatMessage[], tools: readonly ToolDefinition[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  if (tools.length > 0) {
    const list = tools.map((t) => `- ${t.name}: ${t.description}`).join('\n');
    history.push({ type: 'system', text: `Answer with JSON. Tools you may call:\n${list}` });
  }
  for (const message of messages) {
    if (message.role === 'system') history.push({ type: 'system', text: message.content });
    else if (message.role === 'assistant') history.push({ type: 'model', response: [message.content] });
    else if (message.role === 'tool') history.push({ type: 'user', text: `Result of ${message.name ?? 'tool'}: ${message.content}` });
    else history.push({ type: 'user', text: message.content });
  }
  if (history.at(-1)?.type !== 'user') history.push({ type: 'user', text: '' });
  return history;
}

function toolGrammarSchema(tools: readonly ToolDefinition[]): Record<string, unknown> {
  return {
    oneOf: [
      { type: 'object', properties: { answer: { type: 'string' } } },
      ...tools.map((tool) => ({
        type: 'object',
        properties: { tool: { const: tool.name }, arguments: { type: 'object', additionalProperties: true } },
      })),
    ],
  };
}

type GrammarOutput = { kind: 'answer'; text: string } | { kind: 'tool'; name: string; arguments: unknown };

function parseGrammarOutput(provider: string, output: { text: string; stop: string }, tools: readonly ToolDefinition[]): GrammarOutput {
  const { text, stop } = output;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // The grammar guarantees JSON unless generation stopped at max tokens mid-object.
    throw new ProviderBadResponseError(provider, `local model output is not complete JSON (stopped: ${stop})`, { cause: error });
  }
  if (typeof value === 'object' && value !== null && 'tool' in value && typeof value.tool === 'string') {
    const name = value.tool;
    if (!tools.some((t) => t.name === name)) throw new ProviderBadResponseError(provider, `local model called unknown tool ${name}`);
    return { kind: 'tool', name, arguments: 'arguments' in value ? value.arguments : {} };
  }
  if (typeof value === 'object' && value !== null && 'answer' in value && typeof value.answer === 'string') {
    return { kind: 'answer', text: value.answer };
  }
  throw new ProviderBadResponseError(provider, 'local model output matches neither an answer nor a tool call');
}
