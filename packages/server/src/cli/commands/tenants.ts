import type { Command } from 'commander';

import { action, clientFor, type CliContext } from '../context.js';

/** aether tenant create|list|show (operator commands). */
export function registerTenantCommands(program: Command, context: CliContext): void {
  const tenant = program.command('tenant').description('Manage tenants (platform operator)');

  tenant
    .command('create')
    .description('Create a tenant')
    .requiredOption('--slug <slug>', 'short unique name, e.g. acme')
    .option('--name <name>', 'display name (defaults to the slug)')
    .action(
      action(context, async (command) => {
        const options = command.opts<{ slug: string; name?: string }>();
        const client = await clientFor(context, command, { operator: true });
        return client.createTenant({ body: { slug: options.slug, name: options.name ?? options.slug } });
      }),
    );

  tenant
    .command('list')
    .description('List tenants (all of them with the operator key; your own otherwise)')
    .action(
      action(
        context,
        async (command) => (await (await clientFor(context, command, { operator: true })).listTenants({})).items,
        ['id', 'slug', 'name', 'status', 'created_at'],
      ),
    );
}
