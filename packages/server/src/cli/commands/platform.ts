import { createAetherClient } from '@aether/protocol';
import type { Command } from 'commander';

import { action, clientFor, globalOptions, type CliContext } from '../context.js';
import { CliError } from '../io.js';
import { saveOperatorKey, saveProfile } from '../profiles.js';

const ROLES = ['api', 'worker', 'scheduler'];

function parseRoles(text: string): string[] {
  const roles = text.split(',').map((role) => role.trim()).filter(Boolean);
  const unknown = roles.filter((role) => !ROLES.includes(role));
  if (roles.length === 0 || unknown.length > 0) throw new CliError(`--role takes a comma-separated list of ${ROLES.join(', ')}`, 2);
  return roles;
}

async function initialize(context: CliContext): Promise<{ created: boolean; tenant_id: string; api_key?: string | undefined; operator_key?: string | undefined }> {
  const outcome = await context.launcher.init();
  if (outcome.created && outcome.api_key && outcome.operator_key) {
    await saveOperatorKey(context.settings.home, outcome.operator_key);
    await saveProfile(context.settings.home, context.settings.profile, { url: context.settings.url ?? context.settings.defaultUrl, api_key: outcome.api_key, tenant_id: outcome.tenant_id });
  }
  return outcome;
}

/** init, serve, start, status, doctor, login. */
export function registerPlatformCommands(program: Command, context: CliContext): void {
  const { io, settings } = context;

  program
    .command('init')
    .description('Create the data directory, run migrations, and create the operator and the first tenant "default" with an Owner API key (printed once)')
    .option('--json', 'print {"tenant_id","api_key"} as JSON')
    .action(async (options: { json?: boolean }) => {
      const outcome = await initialize(context);
      if (options.json) {
        io.out(JSON.stringify({ tenant_id: outcome.tenant_id, api_key: outcome.api_key ?? null }));
        return;
      }
      if (!outcome.created) {
        io.out(`Already initialised in ${settings.home} (tenant "default" is ${outcome.tenant_id}). Keys are shown only once, at the first init.`);
        return;
      }
      io.out(`Initialised Aether in ${settings.home}`);
      io.out(`Tenant "default": ${outcome.tenant_id}`);
      io.out(`Owner API key (shown once; also saved to your CLI profile): ${String(outcome.api_key)}`);
      io.out(`Operator key saved to ${settings.home}/operator.key (mode 0600)`);
    });

  program
    .command('serve')
    .description('Run the server (API, workers, scheduler) until SIGINT or SIGTERM')
    .option('--role <roles>', 'comma-separated roles: api,worker,scheduler', 'api,worker,scheduler')
    .action(async (options: { role: string }) => {
      await context.launcher.serve({ roles: parseRoles(options.role) }, (url) => {
        io.out(`Aether is listening on ${url}  (API reference: ${url}/docs)`);
      });
    });

  program
    .command('start')
    .description('Initialise if needed, then serve; prints the URL and, on first start, the API key')
    .action(async () => {
      const outcome = await initialize(context);
      await context.launcher.serve({ roles: ROLES }, (url) => {
        io.out(`Aether is running at ${url}`);
        io.out(`  dashboard: ${url}/   API reference: ${url}/docs`);
        io.out(`  tenant "default": ${outcome.tenant_id}`);
        io.out(outcome.api_key
          ? `  Owner API key (shown once, saved to your CLI profile): ${outcome.api_key}`
          : `  API key: the one printed at first start (saved in ${settings.home}/profiles.json)`);
        io.out('  try: npx aether status');
      });
    });

  program
    .command('status')
    .description('Show what the server runs on and whether it is ready')
    .action(action(context, async (command) => clientFor(context, command).then((client) => client.getStatus({}))));

  program
    .command('login')
    .description('Save a server URL and API key as a CLI profile (checked against the server first)')
    .requiredOption('--key <key>', 'the API key to save')
    .option('--server <url>', 'the server URL')
    .action(async (options: { key: string; server?: string }, command: Command) => {
      const global = globalOptions(command);
      const url = options.server ?? global.url ?? settings.url ?? settings.defaultUrl;
      const me = await createAetherClient({ url, apiKey: options.key, ...(context.fetch ? { fetch: context.fetch } : {}) }).getMe({});
      await saveProfile(settings.home, global.profile ?? settings.profile, { url, api_key: options.key, ...(me.tenant_id ? { tenant_id: me.tenant_id } : {}) });
      io.out(`Logged in to ${url} as ${me.type} ${me.id}${me.role ? ` (${me.role})` : ''}; profile "${global.profile ?? settings.profile}" saved`);
    });

  program
    .command('doctor')
    .description('Check Node, the database, Redis, NATS and the sandboxes on this machine')
    .action(async (_options: unknown, command: Command) => {
      const checks = await context.launcher.doctor();
      if (globalOptions(command).format === 'json') {
        io.out(JSON.stringify(checks, null, 2));
      } else {
        for (const check of checks) {
          const mark = check.ok ? 'ok  ' : check.required ? 'FAIL' : 'warn';
          io.out(`${mark}  ${check.name.padEnd(12)} ${check.detail}`);
        }
      }
      if (checks.some((check) => check.required && !check.ok)) throw new CliError('some required checks failed', 1);
    });
}
