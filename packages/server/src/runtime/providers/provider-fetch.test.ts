import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ProviderUnavailableError, type ModelProvider } from '../../kernel/model-router/index.js';
import { AnthropicProvider } from './anthropic-provider.js';
import { GeminiProvider } from './gemini-provider.js';
import { OllamaProvider } from './ollama-provider.js';
import { OpenAiProvider } from './openai-provider.js';
import { createProviderFetch } from './provider-fetch.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function startServer(handle: Handler): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** What `promise` rejects with; fails the test when it resolves. */
async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<string> {
  const { url, close } = await startServer(() => undefined);
  await close();
  return url;
}

describe('createProviderFetch', () => {
  const providerFetch = createProviderFetch();
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let release: (() => void) | undefined;

  beforeEach(() => {
    server = undefined;
    release = undefined;
  });
  afterEach(async () => {
    release?.();
    await server?.close();
  });

  it('sends the method, headers and string body, and answers with status, headers and body', async () => {
    server = await startServer((_req, res, body) => {
      res.writeHead(201, [['content-type', 'application/json'], ['x-request-id', 'req_1'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']]);
      res.end(JSON.stringify({ echoed: body }));
    });
    const headers = new Headers({ 'content-type': 'application/json', authorization: 'Bearer k', 'x-stainless-os': 'Linux' });
    const response = await providerFetch(`${server.url}/v1/chat`, { method: 'post', headers, body: '{"hello":"world"}' });
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.headers.get('x-request-id')).toBe('req_1');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.json()).toEqual({ echoed: '{"hello":"world"}' });
    expect(server.seen[0]).toMatchObject({ method: 'POST', url: '/v1/chat', body: '{"hello":"world"}' });
    expect(server.seen[0]?.headers).toMatchObject({ authorization: 'Bearer k', 'x-stainless-os': 'Linux' });
  });

  it('takes headers as a record or as pairs, and a URL object', async () => {
    server = await startServer((_req, res) => res.end('ok'));
    await providerFetch(new URL(`${server.url}/a`), { headers: { 'X-One': '1' } });
    await providerFetch(`${server.url}/b`, { headers: [['X-Two', '2']] });
    expect(server.seen.map((seen) => [seen.method, seen.url])).toEqual([['GET', '/a'], ['GET', '/b']]);
    expect(server.seen[0]?.headers['x-one']).toBe('1');
    expect(server.seen[1]?.headers['x-two']).toBe('2');
  });

  it('hands over each chunk as it arrives, before the server has finished the body', async () => {
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      void gate.then(() => res.end('data: second\n\n'));
    });
    const response = await providerFetch(`${server.url}/stream`, { method: 'POST', body: '{}' });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value ?? new Uint8Array()).toString('utf8')).toBe('data: first\n\n');
    release?.();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += Buffer.from(chunk.value).toString('utf8');
    expect(rest).toBe('data: second\n\n');
  });

  it('rejects with an AbortError when the signal aborts before the answer, and errors the body when it aborts during it', async () => {
    server = await startServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: partial\n\n');
    });
    const before = new AbortController();
    const pending = providerFetch(`${server.url}/slow`, { method: 'POST', body: '{}', signal: before.signal });
    before.abort();
    expect((await errorOf(pending)).name).toBe('AbortError');

    const during = new AbortController();
    const response = await providerFetch(`${server.url}/partial`, { method: 'POST', body: '{}', signal: during.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    during.abort();
    expect((await errorOf(reader.read())).name).toBe('AbortError');
  });

  it('answers a 204 with no body, and leaves bodies it does not handle to the global fetch', async () => {
    server = await startServer((_req, res, body) => {
      if (body === '') {
        res.writeHead(204).end();
        return;
      }
      res.end(`got ${body}`);
    });
    const empty = await providerFetch(`${server.url}/none`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    const form = await providerFetch(`${server.url}/form`, { method: 'POST', body: new URLSearchParams({ a: '1' }) });
    expect(await form.text()).toBe('got a=1');
    const bytes = await providerFetch(`${server.url}/bytes`, { method: 'POST', body: new TextEncoder().encode('raw') });
    expect(await bytes.text()).toBe('got raw');
  });

  it('rejects when nothing listens, so the SDKs report a connection failure', async () => {
    const url = await closedPort();
    const error = await errorOf(providerFetch(`${url}/v1/chat`, { method: 'POST', body: '{}' }));
    expect(`${String((error as { code?: string }).code)} ${error.message}`).toMatch(/ECONNREFUSED/);
  });
});

describe('providers on the provider fetch', () => {
  it.each([
    ['openai', (url: string) => new OpenAiProvider({ apiKey: 'k', baseUrl: `${url}/v1` })],
    ['anthropic', (url: string) => new AnthropicProvider({ apiKey: 'k', baseUrl: url })],
    ['google', (url: string) => new GeminiProvider({ apiKey: 'k', baseUrl: url })],
    ['ollama', (url: string) => new OllamaProvider({ host: url })],
  ] as const)('%s: a vendor that refuses the connection is ProviderUnavailableError naming the provider', async (name, make: (url: string) => ModelProvider) => {
    const provider = make(await closedPort());
    const error = await errorOf(provider.chat([{ role: 'user', content: 'hi' }], [], { model: 'm' }));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error.message).toContain(name);
  });
});
