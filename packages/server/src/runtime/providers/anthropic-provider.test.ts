import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  collectStream,
  ProviderAbortedError,
  ProviderBadResponseError,
  ProviderRateLimitedError,
  ProviderUnavailableError,
} from '../../kernel/model-router/index.js';
import { AnthropicProvider } from './anthropic-provider.js';
import { FakeVendorServer } from './testing/fake-vendor-server.js';
import { anthropicAnswer, anthropicMessage, anthropicStream } from './testing/vendor-wire.js';

const KEY = 'sk-ant-secret-9876';
const tools = [{ name: 'search', description: 'Search the web', parameters: { type: 'object', properties: { q: { type: 'string' } } } }];

describe('AnthropicProvider (wire level)', () => {
  let server: FakeVendorServer;
  let provider: AnthropicProvider;
  beforeEach(async () => {
    server = await FakeVendorServer.start();
    provider = new AnthropicProvider({ apiKey: KEY, baseUrl: server.url, timeoutMs: 5_000 });
  });
  afterEach(async () => {
    await server.close();
  });

  it('streams thinking, text and a tool_use block assembled from input_json deltas', async () => {
    server.enqueue(anthropicStream({ text: 'Searching now.', thinking: 'user wants news', tool: { id: 'toolu_1', name: 'search', argumentPieces: ['{"q":', ' "aether"}'] } }));
    const response = await provider.chat(
      [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'news?' }],
      tools,
      { model: 'claude-test', maxOutputTokens: 2048, thinkingBudgetTokens: 1024 },
    );
    expect(response.thinking).toBe('user wants news');
    expect(response.text).toBe('Searching now.');
    expect(response.toolCalls).toEqual([{ id: 'toolu_1', name: 'search', argumentsJson: '{"q": "aether"}' }]);
    expect(response.stopReason).toBe('tool_calls');
    expect(response.usage).toEqual({ inputTokens: 14, outputTokens: 9, cachedInputTokens: 4 });
    const request = server.requests[0];
    expect(request?.url).toBe('/v1/messages');
    // SDK 1.x sends the key as a bearer token; older versions used x-api-key.
    expect(request?.headers['x-api-key'] ?? request?.headers.authorization).toMatch(new RegExp(`(Bearer )?${KEY}$`));
    expect(request?.body).toMatchObject({ model: 'claude-test', max_tokens: 2048, system: 'be brief', stream: true, thinking: { type: 'enabled', budget_tokens: 1024 } });
  });

  it('asks for a whole message when the output cap is short, with thinking, text, tool call and usage', async () => {
    server.enqueue(anthropicMessage({ text: 'Searching now.', thinking: 'user wants news', tool: { id: 'toolu_1', name: 'search', argumentPieces: ['{"q": "aether"}'] } }));
    const response = await provider.chat([{ role: 'user', content: 'news?' }], tools, { model: 'claude-test', maxOutputTokens: 100 });
    expect(response).toEqual({
      text: 'Searching now.',
      thinking: 'user wants news',
      toolCalls: [{ id: 'toolu_1', name: 'search', argumentsJson: '{"q":"aether"}' }],
      usage: { inputTokens: 14, outputTokens: 9, cachedInputTokens: 4 },
      stopReason: 'tool_calls',
    });
    expect(server.requests[0]?.body).toMatchObject({ max_tokens: 100, stream: false });
  });

  it('gives the same answer whole or streamed, and streams when told to (wholeResponseMaxTokens 0)', async () => {
    const answer = { text: 'Searching now.', thinking: 'user wants news', tool: { id: 'toolu_1', name: 'search', argumentPieces: ['{"q":', ' "aether"}'] } };
    server.always(anthropicAnswer(answer));
    const ask = [{ role: 'user' as const, content: 'news?' }];
    const whole = await provider.chat(ask, tools, { model: 'claude-test', maxOutputTokens: 100 });
    const streamed = await collectStream(provider.chatStream(ask, tools, { model: 'claude-test', maxOutputTokens: 100 }));
    const parsedArguments = (response: typeof whole) => response.toolCalls.map((call) => ({ ...call, argumentsJson: JSON.parse(call.argumentsJson) as unknown }));
    expect({ ...whole, toolCalls: parsedArguments(whole) }).toEqual({ ...streamed, toolCalls: parsedArguments(streamed) });
    const alwaysStreams = new AnthropicProvider({ apiKey: KEY, baseUrl: server.url, wholeResponseMaxTokens: 0 });
    await alwaysStreams.chat(ask, [], { model: 'claude-test', maxOutputTokens: 10 });
    expect(server.requests.map((r) => (r.body as { stream: boolean }).stream)).toEqual([false, true, true]);
  });

  it('refuses a whole answer that is not a message, and maps its errors as a stream\'s', async () => {
    server.enqueue(
      { kind: 'raw', contentType: 'text/html', body: '<html>gateway</html>' },
      { kind: 'raw', contentType: 'application/json', body: '{"content": [' },
      { kind: 'json', status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } },
    );
    const short = { model: 'm', maxOutputTokens: 100 };
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], short)).rejects.toBeInstanceOf(ProviderBadResponseError);
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], short)).rejects.toBeInstanceOf(ProviderBadResponseError);
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], short)).rejects.toBeInstanceOf(ProviderUnavailableError);
  });

  it('stops a whole call with ProviderAbortedError when the caller aborts', async () => {
    server.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 50);
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], { model: 'm', maxOutputTokens: 100, signal: controller.signal })).rejects.toBeInstanceOf(ProviderAbortedError);
  });

  it('sends tool results as tool_result blocks in a user turn', async () => {
    server.enqueue(anthropicStream({ text: 'Found it.' }));
    await provider.chat(
      [
        { role: 'user', content: 'news?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'toolu_1', name: 'search', argumentsJson: '{"q":"aether"}' }] },
        { role: 'tool', content: 'result text', toolCallId: 'toolu_1' },
      ],
      tools,
      { model: 'claude-test' },
    );
    expect(server.requests[0]?.body).toMatchObject({
      messages: [
        { role: 'user', content: 'news?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search', input: { q: 'aether' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'result text' }] },
      ],
    });
  });

  it('maps 529 overloaded to ProviderUnavailableError and 429 to ProviderRateLimitedError', async () => {
    server.enqueue({ kind: 'json', status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after': '1' }, body: { type: 'error', error: { type: 'rate_limit_error', message: 'slow' } } });
    const overloaded = await provider.chat([{ role: 'user', content: 'x' }], [], { model: 'm' }).catch((e: unknown) => e);
    expect(overloaded).toBeInstanceOf(ProviderUnavailableError);
    expect((overloaded as ProviderUnavailableError).details).toMatchObject({ provider: 'anthropic', status: 529 });
    const limited = await provider.chat([{ role: 'user', content: 'x' }], [], { model: 'm' }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(ProviderRateLimitedError);
    expect((limited as ProviderRateLimitedError).retryAfterMs).toBe(1000);
  });

  it('refuses a stream cut before message_stop', async () => {
    const full = anthropicStream({ text: 'partial answer' });
    if (full.kind !== 'sse') throw new Error('expected sse');
    server.enqueue({ kind: 'sse', events: full.events.slice(0, 3) });
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], { model: 'm' })).rejects.toBeInstanceOf(ProviderBadResponseError);
  });

  it('refuses garbage in the event stream', async () => {
    server.enqueue({ kind: 'raw', contentType: 'text/event-stream', body: 'event: message_start\ndata: {not json\n\n' });
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], { model: 'm' })).rejects.toBeInstanceOf(ProviderBadResponseError);
  });

  it('stops with ProviderAbortedError when the caller aborts mid-stream', async () => {
    const full = anthropicStream({ text: 'one two three four five six seven eight' });
    if (full.kind !== 'sse') throw new Error('expected sse');
    server.enqueue({ ...full, delayMs: 40 });
    const controller = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const chunk of provider.chatStream([{ role: 'user', content: 'x' }], [], { model: 'm', signal: controller.signal })) {
        if (chunk.type === 'text_delta') {
          seen.push(chunk.text);
          controller.abort();
        }
      }
    })();
    await expect(run).rejects.toBeInstanceOf(ProviderAbortedError);
    expect(seen.length).toBeLessThan(8);
  });
});
