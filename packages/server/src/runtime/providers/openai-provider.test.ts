import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  ProviderAbortedError,
  ProviderBadResponseError,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
  type StreamChunk,
} from '../../kernel/model-router/index.js';
import { OpenAiProvider } from './openai-provider.js';
import { FakeVendorServer } from './testing/fake-vendor-server.js';
import { openAiStream } from './testing/vendor-wire.js';

const KEY = 'sk-test-secret-key-1234';
const tools = [{ name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];

describe('OpenAiProvider (wire level)', () => {
  let server: FakeVendorServer;
  let provider: OpenAiProvider;
  beforeEach(async () => {
    server = await FakeVendorServer.start();
    provider = new OpenAiProvider({ apiKey: KEY, baseUrl: `${server.url}/v1`, timeoutMs: 5_000 });
  });
  afterEach(async () => {
    await server.close();
  });

  it('streams text and a tool call assembled from argument deltas, with usage', async () => {
    server.enqueue(openAiStream({ text: 'Let me check.', tool: { id: 'call_a', name: 'get_weather', argumentPieces: ['{"ci', 'ty": "Pa', 'ris"}'] }, cached: 5 }));
    const chunks: StreamChunk[] = [];
    for await (const chunk of provider.chatStream([{ role: 'user', content: 'Weather in Paris?' }], tools, { model: 'gpt-test', temperature: 0 })) {
      chunks.push(chunk);
    }
    expect(chunks.filter((c) => c.type === 'text_delta').map((c) => c.text).join('')).toBe('Let me check.');
    expect(chunks.find((c) => c.type === 'tool_call_start')).toEqual({ type: 'tool_call_start', index: 0, id: 'call_a', name: 'get_weather' });
    expect(chunks.filter((c) => c.type === 'tool_call_delta')).toHaveLength(3);
    expect(chunks.at(-1)).toEqual({ type: 'done', usage: { inputTokens: 12, outputTokens: 7, cachedInputTokens: 5 }, stopReason: 'tool_calls' });

    const request = server.requests[0];
    expect(request?.url).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request?.body).toMatchObject({ model: 'gpt-test', stream: true, temperature: 0, tools: [{ type: 'function', function: { name: 'get_weather' } }] });
  });

  it('sends tool results back in the OpenAI message shape', async () => {
    server.enqueue(openAiStream({ text: 'It is sunny.' }));
    const response = await provider.chat(
      [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_a', name: 'get_weather', argumentsJson: '{"city":"Paris"}' }] },
        { role: 'tool', content: 'sunny', toolCallId: 'call_a', name: 'get_weather' },
      ],
      tools,
      { model: 'gpt-test' },
    );
    expect(response.text).toBe('It is sunny.');
    expect(response.stopReason).toBe('end');
    expect(server.requests[0]?.body).toMatchObject({
      messages: [
        { role: 'system' },
        { role: 'user' },
        { role: 'assistant', tool_calls: [{ id: 'call_a', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_a', content: 'sunny' },
      ],
    });
  });

  it('maps 429 with retry-after to ProviderRateLimitedError carrying the delay', async () => {
    server.enqueue({ kind: 'json', status: 429, headers: { 'retry-after': '2' }, body: { error: { message: 'slow down', type: 'rate_limit' } } });
    const error = await provider.chat([{ role: 'user', content: 'hi' }], [], { model: 'gpt-test' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRateLimitedError);
    expect((error as ProviderRateLimitedError).retryAfterMs).toBe(2000);
    expect((error as ProviderRateLimitedError).details).toMatchObject({ provider: 'openai', retry_after_ms: 2000 });
  });

  it('maps 5xx to ProviderUnavailableError and 400 to ProviderRejectedError', async () => {
    server.enqueue({ kind: 'json', status: 503, body: { error: { message: 'down' } } });
    server.enqueue({ kind: 'json', status: 400, body: { error: { message: 'bad model' } } });
    await expect(provider.chat([{ role: 'user', content: 'hi' }], [], { model: 'm' })).rejects.toBeInstanceOf(ProviderUnavailableError);
    await expect(provider.chat([{ role: 'user', content: 'hi' }], [], { model: 'm' })).rejects.toBeInstanceOf(ProviderRejectedError);
  });

  it('refuses a malformed stream with ProviderBadResponseError', async () => {
    server.enqueue({ kind: 'raw', contentType: 'text/event-stream', body: 'data: {"choices": [ {"delta": \n\n' });
    await expect(provider.chat([{ role: 'user', content: 'hi' }], [], { model: 'm' })).rejects.toBeInstanceOf(ProviderBadResponseError);
  });

  it('refuses a stream that ends before its finish reason', async () => {
    server.enqueue({ kind: 'sse', events: [{ data: { id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'half' }, finish_reason: null }] } }] });
    await expect(provider.chat([{ role: 'user', content: 'hi' }], [], { model: 'm' })).rejects.toBeInstanceOf(ProviderBadResponseError);
  });

  it('refuses tool-call arguments that are not JSON', async () => {
    server.enqueue(openAiStream({ text: '', tool: { id: 'c', name: 'get_weather', argumentPieces: ['{"city": Par'] } }));
    await expect(provider.chat([{ role: 'user', content: 'hi' }], tools, { model: 'm' })).rejects.toBeInstanceOf(ProviderBadResponseError);
  });

  it('stops with ProviderAbortedError when the caller aborts', async () => {
    server.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 50);
    await expect(provider.chat([{ role: 'user', content: 'hi' }], [], { model: 'm', signal: controller.signal })).rejects.toBeInstanceOf(ProviderAbortedError);
  });

  it('never puts the API key in an error message or its details', async () => {
    server.enqueue({ kind: 'json', status: 401, body: { error: { message: 'bad key' } } });
    const error: unknown = await provider.chat([{ role: 'user', content: 'hi' }], [], { model: 'm' }).catch((e: unknown) => e);
    if (!(error instanceof ProviderRejectedError)) throw new Error('expected ProviderRejectedError');
    expect(`${error.message} ${JSON.stringify(error.details)}`).not.toContain(KEY);
  });

  it('speaks to any OpenAI-compatible base URL under its own provider name', async () => {
    const vllm = new OpenAiProvider({ name: 'vllm', apiKey: 'none', baseUrl: `${server.url}/compat/v1` });
    server.enqueue(openAiStream({ text: 'ok' }));
    const response = await vllm.chat([{ role: 'user', content: 'hi' }], [], { model: 'qwen' });
    expect(response.text).toBe('ok');
    expect(server.requests[0]?.url).toBe('/compat/v1/chat/completions');
    expect(vllm.name).toBe('vllm');
  });
});
