import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  ProviderAbortedError,
  ProviderBadResponseError,
  ProviderRateLimitedError,
  ProviderRejectedError,
  ProviderUnavailableError,
  collectStream,
  type StreamChunk,
} from '../../kernel/model-router/index.js';
import { OpenAiProvider } from './openai-provider.js';
import { FakeVendorServer } from './testing/fake-vendor-server.js';
import { openAiAnswer, openAiCompletion, openAiStream } from './testing/vendor-wire.js';

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

  it('asks for a whole completion when the caller does not stream, with text, tool call, thinking and usage', async () => {
    server.enqueue(openAiCompletion({ text: 'Let me check.', tool: { id: 'call_a', name: 'get_weather', argumentPieces: ['{"city": "Paris"}'] }, cached: 5, reasoning: 'needs a tool' }));
    const response = await provider.chat([{ role: 'user', content: 'Weather in Paris?' }], tools, { model: 'gpt-test', maxOutputTokens: 50 });
    expect(response).toEqual({
      text: 'Let me check.',
      thinking: 'needs a tool',
      toolCalls: [{ id: 'call_a', name: 'get_weather', argumentsJson: '{"city": "Paris"}' }],
      usage: { inputTokens: 12, outputTokens: 7, cachedInputTokens: 5 },
      stopReason: 'tool_calls',
    });
    expect(server.requests[0]?.body).toMatchObject({ model: 'gpt-test', stream: false, max_completion_tokens: 50 });
    expect(server.requests[0]?.body).not.toHaveProperty('stream_options');
  });

  it('streams a chat with no output cap or a cap above wholeResponseMaxTokens, and always when that is 0', async () => {
    server.always(openAiAnswer({ text: 'ok' }));
    const ask = [{ role: 'user' as const, content: 'hi' }];
    await provider.chat(ask, [], { model: 'm' });
    await provider.chat(ask, [], { model: 'm', maxOutputTokens: 1025 });
    await provider.chat(ask, [], { model: 'm', maxOutputTokens: 1024 });
    const alwaysStreams = new OpenAiProvider({ apiKey: KEY, baseUrl: `${server.url}/v1`, wholeResponseMaxTokens: 0 });
    expect((await alwaysStreams.chat(ask, [], { model: 'm', maxOutputTokens: 1 })).text).toBe('ok');
    expect(server.requests.map((r) => (r.body as { stream: boolean }).stream)).toEqual([true, true, false, true]);
  });

  it('gives the same answer whole or streamed', async () => {
    const answer = { text: 'Let me check.', tool: { id: 'call_a', name: 'get_weather', argumentPieces: ['{"ci', 'ty": "Pa', 'ris"}'] }, cached: 5 };
    server.enqueue(openAiAnswer(answer), openAiAnswer(answer));
    const ask = [{ role: 'user' as const, content: 'Weather in Paris?' }];
    const whole = await provider.chat(ask, tools, { model: 'gpt-test', maxOutputTokens: 100 });
    const streamed = await collectStream(provider.chatStream(ask, tools, { model: 'gpt-test', maxOutputTokens: 100 }));
    expect(whole).toEqual(streamed);
    expect(server.requests.map((r) => (r.body as { stream: boolean }).stream)).toEqual([false, true]);
  });

  it('sends tool results back in the OpenAI message shape', async () => {
    server.enqueue(openAiAnswer({ text: 'It is sunny.' }));
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
    // A whole completion's errors map as a stream's do.
    await expect(provider.chat([{ role: 'user', content: 'hi' }], [], { model: 'm', maxOutputTokens: 100 })).rejects.toBeInstanceOf(ProviderRejectedError);
  });

  it('refuses a malformed stream with ProviderBadResponseError', async () => {
    server.enqueue({ kind: 'raw', contentType: 'text/event-stream', body: 'data: {"choices": [ {"delta": \n\n' });
    await expect(collectStream(provider.chatStream([{ role: 'user', content: 'hi' }], [], { model: 'm' }))).rejects.toBeInstanceOf(ProviderBadResponseError);
  });

  it('refuses a truncated completion body, a body that is not JSON, and one without choices', async () => {
    server.enqueue(
      { kind: 'raw', contentType: 'application/json', body: '{"choices": [ {"message": ' },
      { kind: 'raw', contentType: 'text/html', body: '<html>gateway</html>' },
      { kind: 'json', body: { id: 'x', object: 'chat.completion', choices: [] } },
    );
    for (let i = 0; i < 3; i++) {
      await expect(provider.chat([{ role: 'user', content: 'hi' }], [], { model: 'm', maxOutputTokens: 100 })).rejects.toBeInstanceOf(ProviderBadResponseError);
    }
  });

  it('refuses a stream that ends before its finish reason', async () => {
    server.enqueue({ kind: 'sse', events: [{ data: { id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'half' }, finish_reason: null }] } }] });
    await expect(collectStream(provider.chatStream([{ role: 'user', content: 'hi' }], [], { model: 'm' }))).rejects.toBeInstanceOf(ProviderBadResponseError);
  });

  it('refuses tool-call arguments that are not JSON, whole or streamed', async () => {
    const broken = { text: '', tool: { id: 'c', name: 'get_weather', argumentPieces: ['{"city": Par'] } };
    server.enqueue(openAiCompletion(broken), openAiStream(broken));
    await expect(provider.chat([{ role: 'user', content: 'hi' }], tools, { model: 'm', maxOutputTokens: 100 })).rejects.toBeInstanceOf(ProviderBadResponseError);
    await expect(collectStream(provider.chatStream([{ role: 'user', content: 'hi' }], tools, { model: 'm' }))).rejects.toBeInstanceOf(ProviderBadResponseError);
  });

  it('stops with ProviderAbortedError when the caller aborts, whole or streamed', async () => {
    server.enqueue({ kind: 'hang' }, { kind: 'hang' });
    const abortSoon = () => {
      const controller = new AbortController();
      setTimeout(() => {
        controller.abort();
      }, 50);
      return controller.signal;
    };
    await expect(provider.chat([{ role: 'user', content: 'hi' }], [], { model: 'm', maxOutputTokens: 100, signal: abortSoon() })).rejects.toBeInstanceOf(ProviderAbortedError);
    await expect(collectStream(provider.chatStream([{ role: 'user', content: 'hi' }], [], { model: 'm', signal: abortSoon() }))).rejects.toBeInstanceOf(ProviderAbortedError);
  });

  it('never puts the API key in an error message or its details', async () => {
    server.enqueue({ kind: 'json', status: 401, body: { error: { message: 'bad key' } } });
    const error: unknown = await provider.chat([{ role: 'user', content: 'hi' }], [], { model: 'm' }).catch((e: unknown) => e);
    if (!(error instanceof ProviderRejectedError)) throw new Error('expected ProviderRejectedError');
    expect(`${error.message} ${JSON.stringify(error.details)}`).not.toContain(KEY);
  });

  it('speaks to any OpenAI-compatible base URL under its own provider name', async () => {
    const vllm = new OpenAiProvider({ name: 'vllm', apiKey: 'none', baseUrl: `${server.url}/compat/v1` });
    server.enqueue(openAiAnswer({ text: 'ok' }));
    const response = await vllm.chat([{ role: 'user', content: 'hi' }], [], { model: 'qwen' });
    expect(response.text).toBe('ok');
    expect(server.requests[0]?.url).toBe('/compat/v1/chat/completions');
    expect(vllm.name).toBe('vllm');
  });
});
