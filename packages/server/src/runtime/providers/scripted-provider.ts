import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import {
  collectStream,
  ProviderAbortedError,
  ProviderBadResponseError,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderTimeoutError,
  ProviderUnavailableError,
  type ChatMessage,
  type ChatOptions,
  type ChatResponse,
  type ModelProvider,
  type ProviderError,
  type StreamChunk,
  type ToolDefinition,
} from '../../kernel/model-router/index.js';
import { errorMessage, ValidationError } from '../../shared/errors/index.js';

const replySchema = z.strictObject({
  text: z.string().optional(),
  thinking: z.string().optional(),
  tool_calls: z
    .array(z.strictObject({ id: z.string().optional(), name: z.string().min(1), arguments: z.record(z.string(), z.unknown()).default({}) }))
    .optional(),
  usage: z.strictObject({ input_tokens: z.number().int().min(0), output_tokens: z.number().int().min(0), cached_tokens: z.number().int().min(0).default(0) }).optional(),
});

const errorSchema = z.strictObject({
  type: z.enum(['rate_limited', 'unavailable', 'overloaded', 'timeout', 'bad_response', 'rejected']),
  retry_after_ms: z.number().int().min(0).optional(),
  /** Emit this many characters of the reply before failing (a stream that breaks midway). */
  after_chars: z.number().int().min(0).optional(),
});

const turnSchema = z.strictObject({
  match: z.strictObject({ exact: z.string().optional(), regex: z.string().optional(), role: z.enum(['user', 'tool', 'system', 'assistant']).optional() }).optional(),
  reply: replySchema.default({}),
  delay_ms: z.number().int().min(0).default(0),
  chunk_delay_ms: z.number().int().min(0).default(0),
  error: errorSchema.optional(),
  /** How many times the turn answers before it is used up; unlimited when absent. */
  times: z.number().int().min(1).optional(),
});

/** The YAML format of a scripted model; documented in docs/scripted-model.md. */
export const scriptSchema = z.strictObject({
  turns: z.array(turnSchema).default([]),
  default: replySchema.optional(),
});

export type ModelScript = z.input<typeof scriptSchema>;
type ParsedScript = z.output<typeof scriptSchema>;
type Turn = z.output<typeof turnSchema>;
type Reply = z.output<typeof replySchema>;

/** Parses a script from YAML text. @throws {ValidationError} naming the offending field. */
export function parseModelScript(yamlText: string, source = 'script'): ParsedScript {
  let raw: unknown;
  try {
    raw = parseYaml(yamlText);
  } catch (error) {
    throw new ValidationError(`${source} is not valid YAML: ${errorMessage(error)}`, { field: source });
  }
  const result = scriptSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ValidationError(`${source}: ${issue?.message ?? 'invalid'}`, { field: issue?.path.join('.') ?? source });
  }
  for (const [i, turn] of result.data.turns.entries()) {
    if (turn.match?.regex !== undefined) {
      try {
        new RegExp(turn.match.regex);
      } catch {
        throw new ValidationError(`${source}: turns.${String(i)}.match.regex is not a valid regular expression`, { field: `turns.${String(i)}.match.regex` });
      }
    }
  }
  return result.data;
}

const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

class ScriptRun {
  readonly #script: ParsedScript;
  readonly #used = new Map<Turn, number>();
  constructor(script: ParsedScript) {
    this.#script = script;
  }

  pick(latest: ChatMessage | undefined): { turn: Turn | undefined; reply: Reply | undefined } {
    for (const turn of this.#script.turns) {
      const used = this.#used.get(turn) ?? 0;
      if (turn.times !== undefined && used >= turn.times) continue;
      const match = turn.match;
      if (match) {
        if (!latest) continue;
        if (match.role !== undefined && latest.role !== match.role) continue;
        if (match.exact !== undefined && latest.content !== match.exact) continue;
        if (match.regex !== undefined && !new RegExp(match.regex).test(latest.content)) continue;
      }
      this.#used.set(turn, used + 1);
      return { turn, reply: turn.reply };
    }
    return { turn: undefined, reply: this.#script.default };
  }
}

function injectedError(provider: string, error: NonNullable<Turn['error']>): ProviderError {
  switch (error.type) {
    case 'rate_limited':
      return new ProviderRateLimitedError(provider, error.retry_after_ms);
    case 'unavailable':
      return new ProviderUnavailableError(provider, 503);
    case 'overloaded':
      return new ProviderUnavailableError(provider, 529);
    case 'timeout':
      return new ProviderTimeoutError(provider, 0);
    case 'bad_response':
      return new ProviderBadResponseError(provider, 'scripted malformed stream');
    case 'rejected':
      return new ProviderRejectedError(provider, 400);
  }
}

export interface ScriptedProviderOptions {
  /** Scripts given inline, by model name; other model names are read as YAML file paths. */
  readonly scripts?: Readonly<Record<string, ModelScript>>;
}

/**
 * An honest, labelled test double: `scripted:<file>` answers from a YAML script whose turns match
 * the latest message. Each script keeps its own usage counters for the provider's lifetime.
 */
export class ScriptedProvider implements ModelProvider {
  readonly name = 'scripted';
  readonly #runs = new Map<string, Promise<ScriptRun>>();
  readonly #inline: Readonly<Record<string, ModelScript>>;

  constructor(options: ScriptedProviderOptions = {}) {
    this.#inline = options.scripts ?? {};
  }

  chat(messages: readonly ChatMessage[], tools: readonly ToolDefinition[], options: ChatOptions): Promise<ChatResponse> {
    return collectStream(this.chatStream(messages, tools, options));
  }

  async *chatStream(
    messages: readonly ChatMessage[],
    _tools: readonly ToolDefinition[],
    options: ChatOptions,
  ): AsyncIterable<StreamChunk> {
    const run = await this.#run(options.model);
    const { turn, reply } = run.pick(messages.at(-1));
    if (!reply) throw new ProviderBadResponseError(this.name, `script ${options.model} has no turn matching the latest message`);
    const signal = options.signal;
    const wait = async (ms: number): Promise<void> => {
      if (signal?.aborted) throw new ProviderAbortedError(this.name);
      if (ms === 0) return;
      try {
        await sleep(ms, undefined, signal ? { signal } : {});
      } catch (error) {
        throw new ProviderAbortedError(this.name, error);
      }
    };
    await wait(turn?.delay_ms ?? 0);
    const text = reply.text ?? '';
    const failAt = turn?.error ? (turn.error.after_chars ?? 0) : undefined;
    if (failAt !== undefined && turn?.error && failAt === 0) throw injectedError(this.name, turn.error);
    if (reply.thinking) yield { type: 'thinking', text: reply.thinking };
    const pieces = text.match(/\S+\s*|\s+/g) ?? [];
    let emitted = 0;
    for (const piece of pieces) {
      await wait(turn?.chunk_delay_ms ?? 0);
      const cut = failAt !== undefined && emitted + piece.length >= failAt ? piece.slice(0, failAt - emitted) : piece;
      if (cut) yield { type: 'text_delta', text: cut };
      emitted += cut.length;
      if (failAt !== undefined && turn?.error && emitted >= failAt) throw injectedError(this.name, turn.error);
    }
    if (failAt !== undefined && turn?.error) throw injectedError(this.name, turn.error);
    const calls = reply.tool_calls ?? [];
    for (const [index, call] of calls.entries()) {
      yield { type: 'tool_call_start', index, id: call.id ?? `call_${String(index)}`, name: call.name };
      yield { type: 'tool_call_delta', index, argumentsDelta: JSON.stringify(call.arguments) };
    }
    const input = messages.reduce((sum, m) => sum + estimateTokens(m.content), 0);
    yield {
      type: 'done',
      usage: reply.usage
        ? { inputTokens: reply.usage.input_tokens, outputTokens: reply.usage.output_tokens, cachedInputTokens: reply.usage.cached_tokens }
        : { inputTokens: input, outputTokens: estimateTokens(text + (reply.thinking ?? '')) + calls.length * 8, cachedInputTokens: 0 },
      stopReason: calls.length > 0 ? 'tool_calls' : 'end',
    };
  }

  #run(model: string): Promise<ScriptRun> {
    let run = this.#runs.get(model);
    if (!run) {
      const inline = this.#inline[model];
      run = inline
        ? Promise.resolve(new ScriptRun(scriptSchema.parse(inline)))
        : readFile(model, 'utf8').then(
            (text) => new ScriptRun(parseModelScript(text, model)),
            () => {
              throw new ValidationError(`scripted model file ${model} cannot be read`, { field: 'model' });
            },
          );
      run.catch(() => this.#runs.delete(model));
      this.#runs.set(model, run);
    }
    return run;
  }
}
