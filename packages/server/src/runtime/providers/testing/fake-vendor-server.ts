import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted HTTP answer of a fake vendor. */
export type FakeAnswer =
  | { readonly kind: 'json'; readonly status?: number; readonly headers?: Record<string, string>; readonly body: unknown }
  /** Server-sent events; each entry is `{event?, data}`; `data` objects are JSON-encoded. */
  | { readonly kind: 'sse'; readonly events: readonly { readonly event?: string; readonly data: unknown }[]; readonly delayMs?: number }
  /** Newline-delimited JSON (Ollama). */
  | { readonly kind: 'ndjson'; readonly lines: readonly unknown[]; readonly delayMs?: number }
  /** Raw bytes with a content type, for malformed streams. */
  | { readonly kind: 'raw'; readonly status?: number; readonly contentType: string; readonly body: string }
  /** Never answers (until the client gives up). */
  | { readonly kind: 'hang' }
  /** Picks the answer from the request, as a vendor answers a streamed request one way and a whole one another. */
  | { readonly kind: 'per-request'; readonly choose: (request: RecordedRequest) => FakeAnswer };

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

/**
 * A local HTTP server that speaks a vendor's wire format from a queue of scripted answers, so the
 * official SDKs are tested end to end without the network. Requests are recorded for assertions.
 */
export class FakeVendorServer implements AsyncDisposable {
  readonly requests: RecordedRequest[] = [];
  readonly #answers: FakeAnswer[] = [];
  readonly #server: Server;
  readonly #open = new Set<ServerResponse>();
  #fallback: FakeAnswer | undefined;

  private constructor() {
    this.#server = createServer((req, res) => {
      void this.#handle(req, res);
    });
  }

  static async start(): Promise<FakeVendorServer> {
    const fake = new FakeVendorServer();
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    const address = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${String(address.port)}`;
  }

  /** Queues answers, served one per request in order. */
  enqueue(...answers: FakeAnswer[]): this {
    this.#answers.push(...answers);
    return this;
  }

  /** Serves `answer` whenever the queue is empty. */
  always(answer: FakeAnswer): this {
    this.#fallback = answer;
    return this;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep the raw text */
    }
    const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
    this.requests.push(recorded);
    let answer = this.#answers.shift() ?? this.#fallback;
    while (answer?.kind === 'per-request') answer = answer.choose(recorded);
    this.#open.add(res);
    res.on('close', () => this.#open.delete(res));
    if (!answer) {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"no scripted answer"}');
      return;
    }
    switch (answer.kind) {
      case 'json':
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body));
        return;
      case 'raw':
        res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType }).end(answer.body);
        return;
      case 'hang':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
        return;
      case 'sse':
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (const event of answer.events) {
          if (res.destroyed) return;
          const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
          res.write(`${event.event ? `event: ${event.event}\n` : ''}data: ${data}\n\n`);
          if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
        }
        res.end();
        return;
      case 'ndjson':
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        for (const line of answer.lines) {
          if (res.destroyed) return;
          res.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
          if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
        }
        res.end();
        return;
    }
  }

  async close(): Promise<void> {
    for (const res of this.#open) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
