import { AsyncLocalStorage } from 'node:async_hooks';

import { pino, type DestinationStream, type Logger as Pino } from 'pino';

import type { LogFields, Logger } from '../../shared/ports/index.js';

/** Request-scoped fields added to every log line written while handling that request. */
export interface LogScope {
  readonly request_id?: string;
  readonly tenant_id?: string;
  readonly trace_id?: string;
  readonly agent_id?: string;
}

const scopeStorage = new AsyncLocalStorage<LogScope>();

/** Runs `work` with `scope` attached to every log line it writes (logging plumbing only). */
export function withLogScope<T>(scope: LogScope, work: () => T): T {
  const outer = scopeStorage.getStore();
  // A copy either way, as extendLogScope mutates the store; a request has no outer scope.
  return scopeStorage.run(outer ? { ...outer, ...scope } : { ...scope }, work);
}

/** Adds fields to the current scope, e.g. the tenant once authentication has resolved it. */
export function extendLogScope(scope: LogScope): void {
  const store = scopeStorage.getStore();
  if (store) Object.assign(store, scope);
}

// Fields that never reach a log line, at any depth we know of.
const REDACT_PATHS = [
  'password', 'secret', 'api_key', 'apiKey', 'token', 'access_token', 'refresh_token', 'authorization',
  '*.password', '*.secret', '*.api_key', '*.apiKey', '*.token', '*.access_token', '*.refresh_token',
  '*.authorization', 'headers.authorization', 'req.headers.authorization', 'value', '*.value',
];

class PinoLogger implements Logger {
  readonly #pino: Pino;

  constructor(instance: Pino) {
    this.#pino = instance;
  }

  debug(event: string, fields: LogFields = {}): void {
    this.#pino.debug({ ...fields, event }, event);
  }
  info(event: string, fields: LogFields = {}): void {
    this.#pino.info({ ...fields, event }, event);
  }
  warn(event: string, fields: LogFields = {}): void {
    this.#pino.warn({ ...fields, event }, event);
  }
  error(event: string, fields: LogFields = {}): void {
    this.#pino.error({ ...fields, event }, event);
  }
  child(bindings: LogFields): Logger {
    return new PinoLogger(this.#pino.child(bindings));
  }
}

export interface PinoLoggerOptions {
  readonly level: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  readonly destination?: DestinationStream;
  readonly base?: LogFields;
}

/** JSON logs with `tenant_id`, `trace_id` and `request_id` from the current request scope. */
export function createPinoLogger(options: PinoLoggerOptions): Logger {
  const instance = pino(
    {
      level: options.level,
      base: { service: 'aether', ...options.base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => ({ ...scopeStorage.getStore() }),
    },
    // Logs go to stderr by default, so command output on stdout stays clean for pipes.
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
  return new PinoLogger(instance);
}
