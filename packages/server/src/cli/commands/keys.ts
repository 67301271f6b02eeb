import type { Role } from '@aether/protocol';
import type { Command } from 'commander';

import { action, clientFor, type CliContext } from '../context.js';
import { CliError } from '../io.js';

const ROLES: readonly Role[] = ['owner', 'admin', 'developer', 'viewer'];

/** aether key create|list|revoke. */
export function registerKeyCommands(program: Command, context: CliContext): void {
  const key = program.command('key').description('Manage the API keys of your tenant');

  key
    .command('create')
    .description('Create an API key; its secret is printed once')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'developer')
    .option('--scopes <scopes>', 'comma-separated scopes such as ledger:read,vms:* (default: all of the role)')
    .option('--expires-in-days <days>', 'expiry in days')
    .action(
      action(context, async (command) => {
        const options = command.opts<{ name: string; role: string; scopes?: string; expiresInDays?: string }>();
        if (!ROLES.includes(options.role as Role)) throw new CliError(`--role must be one of ${ROLES.join(', ')}`, 2);
        const days = options.expiresInDays === undefined ? undefined : Number(options.expiresInDays);
        if (days !== undefined && (!Number.isInteger(days) || days < 1)) throw new CliError('--expires-in-days takes a whole number of days', 2);
        const client = await clientFor(context, command);
        const created = await client.createApiKey({
          body: {
            name: options.name,
            role: options.role as Role,
            ...(options.scopes ? { scopes: options.scopes.split(',').map((scope) => scope.trim()) } : {}),
            ...(days === undefined ? {} : { expires_in_days: days }),
          },
        });
        return { id: created.api_key.id, role: created.api_key.role, scopes: created.api_key.scopes, expires_at: created.api_key.expires_at, secret: created.secret };
      }),
    );

  key
    .command('list')
    .description('List API keys (never their secrets)')
    .action(
      action(
        context,
        async (command) => (await (await clientFor(context, command)).listApiKeys({})).items,
        ['id', 'name', 'role', 'prefix', 'scopes', 'expires_at', 'revoked_at'],
      ),
    );

  key
    .command('revoke')
    .description('Revoke an API key at once')
    .argument('<key-id>', 'the key id (key_…)')
    .action(
      action(context, async (command, keyId: string) => (await clientFor(context, command)).revokeApiKey({ params: { keyId } })),
    );
}
