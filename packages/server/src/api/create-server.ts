import { existsSync } from 'node:fs';
import { join } from 'node:path';

import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';

import { withLogScope } from '../infra/logger/index.js';
import { isPromise, type MaybePromise } from '../shared/async/index.js';
import { errorMessage, RouteNotFoundError } from '../shared/errors/index.js';
import type { RouteDefinition } from '../shared/http/index.js';
import type { Logger } from '../shared/ports/index.js';
import { toErrorResponse } from './error-response.js';
import type { HttpMetrics } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';
import { guardRequest, nameRoutes, traceIdOf, type GuardedInput, type RouteGuardDeps } from './route-mounting.js';

export interface ApiServerOptions {
  readonly version: string;
  readonly bodyLimitBytes: number;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  readonly publicUrl?: string | undefined;
  /** Built dashboard (index.html + assets), served at `/`. */
  readonly dashboardDir?: string | undefined;
}

export interface ApiServerDeps extends RouteGuardDeps {
  readonly options: ApiServerOptions;
  readonly logger: Logger;
  readonly routes: readonly RouteDefinition[];
  readonly metrics: HttpMetrics;
  /** Named readiness checks (database, redis, nats ...); each throws when not ready. */
  readonly readiness: Readonly<Record<string, () => Promise<void>>>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** `performance.now()` when the request's hooks began; the start of its latency. */
    receivedAt: number;
  }
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
let requestCounter = 0;
let stampedMs = 0;
let stamp36 = '';

/**
 * `Date.now()` in base 36, made once per millisecond: V8 converts a number to base 36 with a
 * libm fmod call per digit (about 1,500 instructions for a timestamp), and every request id has
 * one. The counter after it is decimal for the same reason.
 */
function timestamp36(): string {
  const nowMs = Date.now();
  if (nowMs !== stampedMs) {
    stampedMs = nowMs;
    stamp36 = nowMs.toString(36);
  }
  return stamp36;
}

/** Runs a route's handler on the guarded input and sends its result with the contract's status. */
function createResponder(definition: RouteDefinition): (reply: FastifyReply, input: GuardedInput) => MaybePromise<void> {
  const successStatus = definition.contract.successStatus ?? 200;
  const send = (reply: FastifyReply, result: unknown): void => {
    if (successStatus === 204) void reply.status(204).send();
    else void reply.status(successStatus).send(result);
  };
  return (reply, input) => {
    const result = definition.handle(input as never);
    if (isPromise(result)) {
      return result.then((value) => {
        send(reply, value);
      });
    }
    send(reply, result);
    return undefined;
  };
}

/** Builds the Fastify server: every module route under /v1, health, metrics, OpenAPI, /docs and the dashboard. */
export async function createApiServer(deps: ApiServerDeps): Promise<FastifyInstance> {
  const { options, logger } = deps;
  const log = logger.child({ module: 'api' });
  const named = nameRoutes(deps.routes);
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      if (typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming)) return incoming;
      requestCounter = requestCounter >= Number.MAX_SAFE_INTEGER ? 1 : requestCounter + 1;
      return `req_${timestamp36()}${String(requestCounter).padStart(7, '0')}`;
    },
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.3' as const } } : {}),
  });

  // While closing, answers end their keep-alive connection, so close() does not wait on clients
  // that would otherwise hold an idle connection open until its timeout.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.decorateRequest('receivedAt', 0);
  app.addHook('onRequest', (request, reply, done) => {
    request.receivedAt = performance.now();
    void reply.header('x-request-id', request.id);
    withLogScope({ request_id: request.id, trace_id: traceIdOf(request) }, done);
  });
  // Latency is recorded when the answer is handed to Node, here, and not in an onResponse hook:
  // any onResponse hook makes Fastify add and remove two listeners and a closure on every
  // response, about 3 µs a request. For a JSON answer the difference is the socket write; for a
  // streamed file it is the time to its first byte.
  // A callback hook, not an async one: it runs on every response and a promise per response shows.
  // eslint-disable-next-line max-params -- Fastify's signature for a callback-style onSend hook
  app.addHook('onSend', (request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    const route = request.routeOptions.url ?? 'unmatched';
    // A request refused before its onRequest hook (a malformed URL) has no arrival time.
    const seconds = request.receivedAt > 0 ? (performance.now() - request.receivedAt) / 1000 : 0;
    deps.metrics.observeRequest({ method: request.method, route, statusCode: reply.statusCode }, seconds);
    if (reply.statusCode >= 500) log.error('http.request_failed', { method: request.method, route, status: reply.statusCode });
    done(null, payload);
  });

  app.setErrorHandler((error, request, reply) => {
    const response = toErrorResponse(error, request.id);
    if (response.status >= 500) {
      log.error('http.unhandled_error', { request_id: request.id, code: response.error.code, error: String(error), stack: (error as Error).stack });
    }
    void reply.status(response.status).send(response.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const wantsPage = request.method === 'GET' && !request.url.startsWith('/v1') && request.headers.accept?.includes('text/html');
    if (wantsPage && options.dashboardDir && existsSync(join(options.dashboardDir, 'index.html'))) {
      return reply.type('text/html').sendFile('index.html');
    }
    const response = toErrorResponse(new RouteNotFoundError(request.method, request.url.split('?')[0] ?? request.url), request.id);
    return reply.status(response.status).send(response.body);
  });

  for (const { definition } of named) {
    const { contract } = definition;
    const respond = createResponder(definition);
    app.route({
      method: contract.method,
      url: contract.path.replace(/\{(\w+)\}/g, ':$1'),
      // Synchronous end to end when the guard and the handler answer from memory; a thrown
      // check reaches the error handler either way (Fastify catches a synchronous throw too).
      handler: (request, reply) => {
        const input = guardRequest(deps, definition, { request, reply });
        if (isPromise(input)) return input.then((ready) => respond(reply, ready));
        const sent = respond(reply, input);
        return isPromise(sent) ? sent : undefined;
      },
    });
  }

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, { ok: boolean; latency_ms: number; error?: string }> = {};
    await Promise.all(
      Object.entries(deps.readiness).map(async ([name, check]) => {
        const start = performance.now();
        try {
          await check();
          checks[name] = { ok: true, latency_ms: Math.round(performance.now() - start) };
        } catch (error) {
          checks[name] = { ok: false, latency_ms: Math.round(performance.now() - start), error: errorMessage(error) };
        }
      }),
    );
    const ready = Object.values(checks).every((check) => check.ok);
    return reply.status(ready ? 200 : 503).send({ ready, checks });
  });
  app.get('/metrics', async (_request, reply) => {
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  const document = buildOpenApiDocument(named, { version: options.version, serverUrl: options.publicUrl });
  app.get('/v1/openapi.json', async () => document);
  await app.register(fastifySwagger, { mode: 'static', specification: { document: document as never } });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });

  if (options.dashboardDir && existsSync(options.dashboardDir)) {
    await app.register(fastifyStatic, { root: options.dashboardDir, prefix: '/', wildcard: false, index: ['index.html'] });
  } else {
    app.get('/', async (_request, reply) =>
      reply.type('text/html').send('<!doctype html><title>Aether</title><h1>Aether</h1><p>The dashboard is not built. Run <code>npm run build</code>. API reference: <a href="/docs">/docs</a>.</p>'),
    );
  }
  return app;
}
