import { AetherApiError, createAetherClient, type AetherClient } from '@aether/protocol';
import type { Command } from 'commander';

import { CliError, printResult, type CliIo, type OutputFormat } from './io.js';
import { readOperatorKey, readProfiles } from './profiles.js';

/** The settings the CLI needs, sliced from the platform configuration by main.ts. */
export interface CliSettings {
  readonly home: string;
  /** Where a local server listens by default (`http://AETHER_HOST:AETHER_PORT`). */
  readonly defaultUrl: string;
  readonly url: string | undefined;
  readonly apiKey: string | undefined;
  readonly profile: string;
}

export interface InitOutcome {
  readonly created: boolean;
  readonly tenant_id: string;
  readonly api_key?: string | undefined;
  readonly operator_key?: string | undefined;
  readonly home: string;
}

export interface DoctorCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** False for checks of optional services, whose failure is a warning. */
  readonly required: boolean;
}

/** Local operations that need the platform itself rather than a running server; main.ts provides them. */
export interface PlatformLauncher {
  init(): Promise<InitOutcome>;
  /** Runs the server until SIGINT/SIGTERM; calls `onListening` with its URL once it accepts requests. */
  serve(options: { roles: readonly string[] }, onListening: (url: string) => void): Promise<void>;
  doctor(): Promise<DoctorCheck[]>;
}

export interface GlobalOptions {
  readonly format: OutputFormat;
  readonly verbose: boolean;
  readonly url?: string;
  readonly apiKey?: string;
  readonly profile?: string;
}

export interface CliContext {
  readonly io: CliIo;
  readonly settings: CliSettings;
  readonly launcher: PlatformLauncher;
  readonly fetch: typeof fetch | undefined;
}

export function globalOptions(command: Command): GlobalOptions {
  const options = command.optsWithGlobals<GlobalOptions>();
  if (options.format !== 'json' && options.format !== 'table') throw new CliError(`--format must be json or table, not "${String(options.format)}"`, 2);
  return options;
}

/**
 * A client for the server, with credentials from (first found): --api-key, AETHER_API_KEY, the
 * saved profile; with `operator`, the operator key file written by `aether init` comes before the profile.
 */
export async function clientFor(context: CliContext, command: Command, options: { operator?: boolean } = {}): Promise<AetherClient> {
  const global = globalOptions(command);
  const profiles = await readProfiles(context.settings.home);
  const profile = profiles[global.profile ?? context.settings.profile];
  const url = global.url ?? context.settings.url ?? profile?.url ?? context.settings.defaultUrl;
  const operatorKey = options.operator ? await readOperatorKey(context.settings.home) : undefined;
  const apiKey = global.apiKey ?? context.settings.apiKey ?? operatorKey ?? profile?.api_key;
  if (!apiKey) {
    throw new CliError('No credentials: pass --api-key, set AETHER_API_KEY, or run "aether login" (or "aether init" on the server machine)', 2);
  }
  return createAetherClient({ url, apiKey, ...(context.fetch ? { fetch: context.fetch } : {}) });
}

/** Runs a command body, printing its result, and turning API errors into a clear message. */
export function action<TArgs extends unknown[]>(
  context: CliContext,
  body: (command: Command, ...args: TArgs) => Promise<unknown>,
  columns?: readonly string[],
): (...args: [...TArgs, Record<string, unknown>, Command]) => Promise<void> {
  return async (...args) => {
    const command = args.at(-1) as Command;
    const format = globalOptions(command).format;
    const result = await body(command, ...(args.slice(0, -2) as TArgs));
    if (result !== undefined) printResult(context.io, result, { format, columns });
  };
}

/** The message and exit code for any error a command throws. */
export function describeFailure(error: unknown, verbose: boolean): { message: string; exitCode: number } {
  if (error instanceof AetherApiError) {
    const details = Object.keys(error.details).length > 0 ? ` ${JSON.stringify(error.details)}` : '';
    const request = error.requestId ? ` (request ${error.requestId})` : '';
    return { message: `error ${error.code}: ${error.message}${verbose ? details + request : ''}`, exitCode: 1 };
  }
  if (error instanceof CliError) return { message: `error: ${error.message}`, exitCode: error.exitCode };
  if (error instanceof TypeError && /fetch failed/.test(error.message)) {
    return { message: `error: cannot reach the server (${(error.cause as Error | undefined)?.message ?? error.message}); is "aether serve" running?`, exitCode: 1 };
  }
  const text = error instanceof Error ? (verbose ? (error.stack ?? error.message) : error.message) : String(error);
  const code = typeof error === 'object' && error !== null && 'code' in error ? `${String((error).code)}: ` : '';
  return { message: `error: ${code}${text}`, exitCode: 1 };
}
