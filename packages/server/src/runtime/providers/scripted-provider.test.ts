import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  ProviderAbortedError,
  ProviderBadResponseError,
  ProviderRateLimitedError,
  ProviderUnavailableError,
  type StreamChunk,
} from '../../kernel/model-router/index.js';
import { ValidationError } from '../../shared/errors/index.js';
import { ScriptedProvider, parseModelScript } from './scripted-provider.js';

const user = (content: string) => [{ role: 'user' as const, content }];

describe('ScriptedProvider.chat', () => {
  it('answers from the first turn whose regex matches the latest message', async () => {
    const provider = new ScriptedProvider({
      scripts: {
        demo: {
          turns: [
            { match: { regex: '^weather in (\\w+)' }, reply: { text: 'Checking.', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] } },
            { match: { exact: 'hello' }, reply: { text: 'Hi there!', thinking: 'greeting' } },
          ],
        },
      },
    });
    const weather = await provider.chat(user('weather in Paris'), [], { model: 'demo' });
    expect(weather.toolCalls).toEqual([{ id: 'call_0', name: 'get_weather', argumentsJson: '{"city":"Paris"}' }]);
    expect(weather.stopReason).toBe('tool_calls');
    const hello = await provider.chat(user('hello'), [], { model: 'demo' });
    expect(hello).toMatchObject({ text: 'Hi there!', thinking: 'greeting', stopReason: 'end' });
    expect(hello.usage.inputTokens).toBeGreaterThan(0);
  });

  it('uses a turn only `times` times, then moves to the next match', async () => {
    const provider = new ScriptedProvider({
      scripts: { s: { turns: [{ error: { type: 'rate_limited', retry_after_ms: 5 }, times: 1 }, { reply: { text: 'ok now' } }] } },
    });
    const first = await provider.chat(user('x'), [], { model: 's' }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(ProviderRateLimitedError);
    expect((first as ProviderRateLimitedError).retryAfterMs).toBe(5);
    expect((await provider.chat(user('x'), [], { model: 's' })).text).toBe('ok now');
  });

  it('breaks a stream midway when the error names after_chars', async () => {
    const provider = new ScriptedProvider({ scripts: { s: { turns: [{ reply: { text: 'one two three four' }, error: { type: 'overloaded', after_chars: 8 } }] } } });
    const seen: StreamChunk[] = [];
    const run = (async () => {
      for await (const chunk of provider.chatStream(user('x'), [], { model: 's' })) seen.push(chunk);
    })();
    await expect(run).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(seen.map((c) => (c.type === 'text_delta' ? c.text : '')).join('')).toBe('one two ');
  });

  it('uses the default reply when no turn matches, and fails without one', async () => {
    const withDefault = new ScriptedProvider({ scripts: { s: { turns: [{ match: { exact: 'a' }, reply: { text: 'A' } }], default: { text: 'fallback' } } } });
    expect((await withDefault.chat(user('b'), [], { model: 's' })).text).toBe('fallback');
    const without = new ScriptedProvider({ scripts: { s: { turns: [{ match: { exact: 'a' }, reply: { text: 'A' } }] } } });
    await expect(without.chat(user('b'), [], { model: 's' })).rejects.toBeInstanceOf(ProviderBadResponseError);
  });

  it('honours delays and aborts during them', async () => {
    const provider = new ScriptedProvider({ scripts: { s: { turns: [{ reply: { text: 'late' }, delay_ms: 5_000 }] } } });
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 20);
    await expect(provider.chat(user('x'), [], { model: 's', signal: controller.signal })).rejects.toBeInstanceOf(ProviderAbortedError);
  });

  it('reads the script from a YAML file named by the model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scripted-'));
    const file = join(dir, 'model.yaml');
    await writeFile(file, 'turns:\n  - match: { regex: "ping" }\n    reply:\n      text: pong\n      usage: { input_tokens: 3, output_tokens: 1 }\n');
    const response = await new ScriptedProvider().chat(user('ping!'), [], { model: file });
    expect(response.text).toBe('pong');
    expect(response.usage).toEqual({ inputTokens: 3, outputTokens: 1, cachedInputTokens: 0 });
    await expect(new ScriptedProvider().chat(user('x'), [], { model: join(dir, 'missing.yaml') })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('parseModelScript', () => {
  it('rejects unknown fields, bad YAML and bad regular expressions with the field named', () => {
    expect(() => parseModelScript('turns:\n  - replly: {}\n')).toThrow(ValidationError);
    expect(() => parseModelScript('turns: [\n')).toThrow(ValidationError);
    const error = (() => {
      try {
        parseModelScript('turns:\n  - match: { regex: "(" }\n');
      } catch (e) {
        return e as ValidationError;
      }
      return undefined;
    })();
    expect(error?.details['field']).toBe('turns.0.match.regex');
  });
});
