export type LogFields = Readonly<Record<string, unknown>>;

/**
 * Structured logging port. The message is a constant event name (`run.started`);
 * data goes in fields. `infra/logger` implements it with pino.
 */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
}

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  event: string;
  fields: LogFields;
}

/** Keeps records in memory; for tests that assert on what was logged. */
export class MemoryLogger implements Logger {
  readonly records: LogRecord[];
  readonly #bindings: LogFields;

  constructor(records: LogRecord[] = [], bindings: LogFields = {}) {
    this.records = records;
    this.#bindings = bindings;
  }

  debug(event: string, fields: LogFields = {}): void {
    this.#push('debug', event, fields);
  }
  info(event: string, fields: LogFields = {}): void {
    this.#push('info', event, fields);
  }
  warn(event: string, fields: LogFields = {}): void {
    this.#push('warn', event, fields);
  }
  error(event: string, fields: LogFields = {}): void {
    this.#push('error', event, fields);
  }
  child(bindings: LogFields): Logger {
    return new MemoryLogger(this.records, { ...this.#bindings, ...bindings });
  }

  #push(level: LogRecord['level'], event: string, fields: LogFields): void {
    this.records.push({ level, event, fields: { ...this.#bindings, ...fields } });
  }
}

/** Discards everything. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
