import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { collectStream, ProviderAbortedError, ProviderBadResponseError, ProviderRateLimitedError, ProviderUnavailableError } from '../../kernel/model-router/index.js';
import { GeminiProvider } from './gemini-provider.js';
import { FakeVendorServer } from './testing/fake-vendor-server.js';
import { geminiAnswer, geminiResponse, geminiStream } from './testing/vendor-wire.js';

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

  it('asks generateContent for a whole response when the output cap is short', async () => {
    server.enqueue(geminiResponse({ text: 'Looking it up.', thought: 'a word query', call: { name: 'lookup', args: { word: 'aether' } } }));
    const response = await provider.chat([{ role: 'user', content: 'define aether' }], tools, { model: 'gemini-test', maxOutputTokens: 100 });
    expect(response).toEqual({
      text: 'Looking it up.',
      thinking: 'a word query',
      toolCalls: [{ id: 'call_0', name: 'lookup', argumentsJson: '{"word":"aether"}' }],
      usage: { inputTokens: 11, outputTokens: 6, cachedInputTokens: 3 },
      stopReason: 'tool_calls',
    });
    expect(server.requests[0]?.url).toMatch(/\/models\/gemini-test:generateContent$/);
    expect(server.requests[0]?.body).toMatchObject({ generationConfig: { maxOutputTokens: 100 } });
  });

  it('gives the same answer whole or streamed, and streams when told to (wholeResponseMaxTokens 0)', async () => {
    const answer = { text: 'Looking it up.', thought: 'a word query', call: { name: 'lookup', args: { word: 'aether' } } };
    server.always(geminiAnswer(answer));
    const ask = [{ role: 'user' as const, content: 'define aether' }];
    const whole = await provider.chat(ask, tools, { model: 'g', maxOutputTokens: 100 });
    expect(whole).toEqual(await collectStream(provider.chatStream(ask, tools, { model: 'g', maxOutputTokens: 100 })));
    const alwaysStreams = new GeminiProvider({ apiKey: KEY, baseUrl: server.url, wholeResponseMaxTokens: 0 });
    await alwaysStreams.chat(ask, [], { model: 'g', maxOutputTokens: 10 });
    expect(server.requests.map((r) => r.url.includes(':streamGenerateContent'))).toEqual([false, true, true]);
  });

  it('refuses a whole answer without a finished candidate or that is not JSON, maps its errors, and stops when aborted', async () => {
    server.enqueue(
      { kind: 'json', body: { candidates: [{ content: { role: 'model', parts: [{ text: 'half' }] } }] } },
      { kind: 'raw', contentType: 'application/json', body: '{"candidates": [' },
      { kind: 'json', status: 429, body: { error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED' } } },
      { kind: 'hang' },
    );
    const short = { model: 'g', maxOutputTokens: 100 };
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], short)).rejects.toBeInstanceOf(ProviderBadResponseError);
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], short)).rejects.toBeInstanceOf(ProviderBadResponseError);
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], short)).rejects.toBeInstanceOf(ProviderRateLimitedError);
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 50);
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], { ...short, signal: controller.signal })).rejects.toBeInstanceOf(ProviderAbortedError);
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

