/**
 * @module cli
 * The `aether` command line: talks to a server through the typed client, and to the local
 * platform (init, serve, doctor) through the PlatformLauncher port that main.ts provides.
 */
export {
  type CliContext,
  type CliSettings,
  type DoctorCheck,
  type InitOutcome,
  type PlatformLauncher,
} from './context.js';
export { CliError, renderTable, type CliIo, type OutputFormat } from './io.js';
export { createProgram, runCli } from './program.js';
