/** Where the CLI writes: injected, so tests capture output and nothing else prints. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export type OutputFormat = 'json' | 'table';

/** A failure the CLI reports with its own exit code (2 for usage, 1 otherwise). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.map(cell).join(',');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return value.toString();
  return JSON.stringify(value);
}

/** Renders rows as aligned columns. */
export function renderTable(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  if (rows.length === 0) return '(none)';
  const keys = columns ?? Object.keys(rows[0] ?? {});
  const widths = keys.map((key) => Math.max(key.length, ...rows.map((row) => cell(row[key]).length)));
  const line = (values: string[]) => values.map((value, index) => value.padEnd(widths[index] ?? 0)).join('  ').trimEnd();
  return [line(keys.map((key) => key.toUpperCase())), ...rows.map((row) => line(keys.map((key) => cell(row[key]))))].join('\n');
}

/** Prints a result as JSON or as a table (lists) / key-value lines (objects). */
export function printResult(io: CliIo, value: unknown, options: { format: OutputFormat; columns?: readonly string[] | undefined }): void {
  const { format, columns } = options;
  if (format === 'json') {
    io.out(JSON.stringify(value, null, 2));
    return;
  }
  if (Array.isArray(value)) {
    io.out(renderTable(value, columns));
    return;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    const width = Math.max(...entries.map(([key]) => key.length));
    io.out(entries.map(([key, item]) => `${key.padEnd(width)}  ${cell(item)}`).join('\n'));
    return;
  }
  io.out(cell(value));
}
