import { Command, CommanderError } from 'commander';

import { registerImageCommands } from './commands/image.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerLedgerCommands } from './commands/ledger.js';
import { registerModelCommands } from './commands/models.js';
import { registerPlatformCommands } from './commands/platform.js';
import { registerTenantCommands } from './commands/tenants.js';
import { registerVmCommands } from './commands/vms.js';
import { describeFailure, type CliContext } from './context.js';

/** Builds the `aether` command tree. Each area registers its commands here. */
export function createProgram(context: CliContext, version: string): Command {
  const program = new Command('aether')
    .description('Aether: a self-hosted, multi-tenant operating system for AI agents')
    .version(version)
    .option('--format <format>', 'output format: json or table', 'table')
    .option('--verbose', 'show details and stack traces of errors', false)
    .option('--url <url>', 'server URL (default: AETHER_URL, the profile, or the local server)')
    .option('--api-key <key>', 'API key or access token (default: AETHER_API_KEY or the profile)')
    .option('--profile <name>', 'saved profile to use')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (text) => { context.io.out(text.trimEnd()); }, writeErr: (text) => { context.io.err(text.trimEnd()); } });
  registerPlatformCommands(program, context);
  registerTenantCommands(program, context);
  registerKeyCommands(program, context);
  registerLedgerCommands(program, context);
  registerVmCommands(program, context);
  registerImageCommands(program, context);
  registerModelCommands(program, context);
  return program;
}

/** Runs the CLI on `argv` (without node and script); returns the exit code. */
export async function runCli(context: CliContext, version: string, argv: readonly string[]): Promise<number> {
  const program = createProgram(context, version);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const verbose = argv.includes('--verbose');
    const failure = describeFailure(error, verbose);
    context.io.err(failure.message);
    return failure.exitCode;
  }
}
