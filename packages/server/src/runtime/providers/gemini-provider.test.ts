import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ProviderBadResponseError, ProviderRateLimitedError, ProviderUnavailableError } from '../../kernel/model-router/index.js';
import { GeminiProvider } from './gemini-provider.js';
import { FakeVendorServer } from './testing/fake-vendor-server.js';
import { geminiStream } from './testing/vendor-wire.js';

const KEY = 'AIza-secret-gemini';
const tools = [{ name: 'lookup', description: 'Look up a word', parameters: { type: 'object', properties: { word: { type: 'string' } } } }];

describe('GeminiProvider (wire level)', () => {
  let server: FakeVendorServer;
  let provider: GeminiProvider;
  beforeEach(async () => {
    server = await FakeVendorServer.start();
    provider = new GeminiProvider({ apiKey: KEY, baseUrl: server.url, timeoutMs: 5_000 });
  });
  afterEach(async () => {
    await server.close();
  });

  it('streams thoughts, text and a function call from streamGenerateContent', async () => {
    server.enqueue(geminiStream({ text: 'Looking it up.', thought: 'a word query', call: { name: 'lookup', args: { word: 'aether' } } }));
    const chunks = [];
    for await (const chunk of provider.chatStream([{ role: 'system', content: 'sys' }, { role: 'user', content: 'define aether' }], tools, { model: 'gemini-test', temperature: 0 })) {
      chunks.push(chunk);
    }
    expect(chunks).toContainEqual({ type: 'thinking', text: 'a word query' });
    expect(chunks.filter((c) => c.type === 'text_delta').map((c) => c.text).join('')).toBe('Looking it up.');
    expect(chunks).toContainEqual({ type: 'tool_call_start', index: 0, id: 'call_0', name: 'lookup' });
    expect(chunks).toContainEqual({ type: 'tool_call_delta', index: 0, argumentsDelta: '{"word":"aether"}' });
    expect(chunks.at(-1)).toEqual({ type: 'done', usage: { inputTokens: 11, outputTokens: 6, cachedInputTokens: 3 }, stopReason: 'tool_calls' });
    const request = server.requests[0];
    expect(request?.url).toMatch(/\/models\/gemini-test:streamGenerateContent\?alt=sse/);
    expect(request?.headers['x-goog-api-key']).toBe(KEY);
    expect(request?.body).toMatchObject({
      contents: [{ role: 'user', parts: [{ text: 'define aether' }] }],
      systemInstruction: { parts: [{ text: 'sys' }] },
      tools: [{ functionDeclarations: [{ name: 'lookup' }] }],
      generationConfig: { temperature: 0 },
    });
  });

  it('maps 429 to ProviderRateLimitedError and 500 to ProviderUnavailableError', async () => {
    server.enqueue({ kind: 'json', status: 429, body: { error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED' } } });
    server.enqueue({ kind: 'json', status: 500, body: { error: { code: 500, message: 'internal', status: 'INTERNAL' } } });
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], { model: 'g' })).rejects.toBeInstanceOf(ProviderRateLimitedError);
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], { model: 'g' })).rejects.toBeInstanceOf(ProviderUnavailableError);
  });

  it('refuses a stream without a finish reason or with garbage', async () => {
    server.enqueue({ kind: 'sse', events: [{ data: { candidates: [{ content: { role: 'model', parts: [{ text: 'half' }] } }] } }] });
    server.enqueue({ kind: 'raw', contentType: 'text/event-stream', body: 'data: {"candidates": [\n\n' });
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], { model: 'g' })).rejects.toBeInstanceOf(ProviderBadResponseError);
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], { model: 'g' })).rejects.toBeInstanceOf(ProviderBadResponseError);
  });

  it('sends tool results back as functionResponse parts after the model\'s functionCall', async () => {
    server.enqueue(geminiStream({ text: 'Aether is the upper air.' }));
    await provider.chat(
      [
        { role: 'user', content: 'define aether' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_0', name: 'lookup', argumentsJson: '{"word":"aether"}' }] },
        { role: 'tool', content: 'the upper air', toolCallId: 'call_0', name: 'lookup' },
      ],
      tools,
      { model: 'g' },
    );
    expect(server.requests[0]?.body).toMatchObject({
      contents: [
        { role: 'user' },
        { role: 'model', parts: [{ functionCall: { name: 'lookup', args: { word: 'aether' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'lookup', response: { output: 'the upper air' } } }] },
      ],
    });
  });
});

