import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ProviderAbortedError, ProviderBadResponseError, ProviderUnavailableError } from '../../kernel/model-router/index.js';
import { OllamaProvider } from './ollama-provider.js';
import { FakeVendorServer } from './testing/fake-vendor-server.js';
import { ollamaStream } from './testing/vendor-wire.js';

const tools = [{ name: 'add', description: 'Add numbers', parameters: { type: 'object', properties: { a: { type: 'number' } } } }];

describe('OllamaProvider (wire level)', () => {
  let server: FakeVendorServer;
  let provider: OllamaProvider;
  beforeEach(async () => {
    server = await FakeVendorServer.start();
    provider = new OllamaProvider({ host: server.url });
  });
  afterEach(async () => {
    await server.close();
  });

  it('streams NDJSON text and a tool call, with eval counts as usage', async () => {
    server.enqueue(ollamaStream({ text: 'Adding them.', call: { name: 'add', args: { a: 2 } } }));
    const response = await provider.chat([{ role: 'user', content: 'add 2' }], tools, { model: 'llama-test', maxOutputTokens: 50 });
    expect(response.text).toBe('Adding them.');
    expect(response.toolCalls).toEqual([{ id: 'call_0', name: 'add', argumentsJson: '{"a":2}' }]);
    expect(response.usage).toEqual({ inputTokens: 8, outputTokens: 5, cachedInputTokens: 0 });
    expect(response.stopReason).toBe('tool_calls');
    expect(server.requests[0]?.url).toBe('/api/chat');
    expect(server.requests[0]?.body).toMatchObject({ model: 'llama-test', stream: true, options: { num_predict: 50 }, tools: [{ function: { name: 'add' } }] });
  });

  it('maps a 503 to ProviderUnavailableError', async () => {
    server.enqueue({ kind: 'json', status: 503, body: { error: 'server busy' } });
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], { model: 'm' })).rejects.toBeInstanceOf(ProviderUnavailableError);
  });

  it('refuses a stream that never says done', async () => {
    server.enqueue({ kind: 'ndjson', lines: [{ model: 'm', created_at: '2030-01-01T00:00:00Z', message: { role: 'assistant', content: 'hal' }, done: false }] });
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], { model: 'm' })).rejects.toBeInstanceOf(ProviderBadResponseError);
  });

  it('stops with ProviderAbortedError when the caller aborts', async () => {
    const full = ollamaStream({ text: 'a b c d e f g h i j' });
    if (full.kind !== 'ndjson') throw new Error('expected ndjson');
    server.enqueue({ ...full, delayMs: 40 });
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 60);
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], { model: 'm', signal: controller.signal })).rejects.toBeInstanceOf(ProviderAbortedError);
  });
});
