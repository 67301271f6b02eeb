import type { Command } from 'commander';

import { action, clientFor, type CliContext } from '../context.js';
import { CliError } from '../io.js';
import { nonNegativeNumber, positiveInt } from '../options.js';

const SCOPES = ['tenant', 'agent', 'task', 'subagent'] as const;
const PERIODS = ['day', 'month', 'total'] as const;
const COST_DIMENSIONS = ['tenant', 'agent', 'task', 'model', 'day'] as const;
const TIERS = ['small', 'mid', 'large'] as const;

const isOneOf = <T extends string>(values: readonly T[], value: string): value is T => (values as readonly string[]).includes(value);

/** aether models, aether budget set|show, aether cost. */
export function registerModelCommands(program: Command, context: CliContext): void {
  const models = program
    .command('models')
    .description('List the models of your catalog with tier, prices (USD per million tokens) and availability; set, unset and list your changes to it')
    .action(
      action(
        context,
        async (command) =>
          (await (await clientFor(context, command)).listModels({})).items.map((m) => ({
            id: m.id,
            tier: m.tier,
            available: m.available,
            context: m.context_window,
            input: m.prices.input_per_million_usd,
            output: m.prices.output_per_million_usd,
            cached: m.prices.cached_input_per_million_usd,
            tools: m.capabilities.tools,
          })),
        ['id', 'tier', 'available', 'context', 'input', 'output', 'cached', 'tools'],
      ),
    );

  registerOverrideCommands(models, context);

  const budget = program.command('budget').description('Show and set spending limits');
  budget
    .command('show')
    .description('Show budgets with spend, reservations and alert level')
    .action(
      action(
        context,
        async (command) => (await (await clientFor(context, command)).listBudgets({})).items,
        ['id', 'scope', 'scope_id', 'period', 'limit_usd', 'spent_usd', 'reserved_usd', 'leased_usd', 'utilisation', 'alert_level'],
      ),
    );
  budget
    .command('set')
    .description('Create or change a budget')
    .argument('<limit-usd>', 'the limit in USD')
    .option('--scope <scope>', `one of ${SCOPES.join(', ')}`, 'tenant')
    .option('--id <scope-id>', 'the agent, task or sub-agent id (not for the tenant scope)')
    .option('--period <period>', `one of ${PERIODS.join(', ')}`, 'month')
    .action(
      action(context, async (command, limit: string) => {
        const options = command.opts<{ scope: string; id?: string; period: string }>();
        const limitUsd = nonNegativeNumber(limit, '<limit-usd>') ?? 0;
        if (!isOneOf(SCOPES, options.scope)) throw new CliError(`--scope must be one of ${SCOPES.join(', ')}`, 2);
        if (!isOneOf(PERIODS, options.period)) throw new CliError(`--period must be one of ${PERIODS.join(', ')}`, 2);
        if (options.scope !== 'tenant' && options.id === undefined) throw new CliError(`--id is required for a ${options.scope} budget`, 2);
        const client = await clientFor(context, command);
        return client.setBudget({
          body: { scope: options.scope, period: options.period, limit_usd: limitUsd, ...(options.id === undefined ? {} : { scope_id: options.id }) },
        });
      }),
    );

  program
    .command('cost')
    .description('Show settled costs, grouped by tenant, agent, task, model or day')
    .option('--by <dimension>', `one of ${COST_DIMENSIONS.join(', ')}`, 'tenant')
    .option('--from <iso-time>', 'only costs settled at or after this time')
    .option('--to <iso-time>', 'only costs settled before this time')
    .action(
      action(
        context,
        async (command) => {
          const options = command.opts<{ by: string; from?: string; to?: string }>();
          if (!isOneOf(COST_DIMENSIONS, options.by)) throw new CliError(`--by must be one of ${COST_DIMENSIONS.join(', ')}`, 2);
          const client = await clientFor(context, command);
          const costs = await client.getCosts({
            query: { by: options.by, ...(options.from === undefined ? {} : { from: options.from }), ...(options.to === undefined ? {} : { to: options.to }) },
          });
          return [...costs.items, { key: 'TOTAL', cost_usd: costs.total_usd, count: costs.items.reduce((n, i) => n + i.count, 0) }];
        },
        ['key', 'cost_usd', 'count'],
      ),
    );
}

/** aether models set|unset|overrides: the tenant's own changes to its catalog. */
function registerOverrideCommands(models: Command, context: CliContext): void {
  models
    .command('set')
    .description("Change or add a model of your tenant's catalog (a new model needs --tier, --input and --output)")
    .argument('<id>', 'provider:model, e.g. openai:gpt-5')
    .option('--tier <tier>', `one of ${TIERS.join(', ')}`)
    .option('--input <usd>', 'price per million input tokens')
    .option('--output <usd>', 'price per million output tokens')
    .option('--cached <usd>', 'price per million cached input tokens')
    .option('--context <tokens>', 'context window')
    .option('--max-output <tokens>', 'most output tokens per call')
    .option('--disable', 'take the model out of routing')
    .action(
      action(context, async (command, id: string) => {
        const o = command.opts<{ tier?: string; input?: string; output?: string; cached?: string; context?: string; maxOutput?: string; disable?: boolean }>();
        if (o.tier !== undefined && !isOneOf(TIERS, o.tier)) throw new CliError(`--tier must be one of ${TIERS.join(', ')}`, 2);
        const prices = { input_per_million_usd: nonNegativeNumber(o.input, '--input'), output_per_million_usd: nonNegativeNumber(o.output, '--output'), cached_input_per_million_usd: nonNegativeNumber(o.cached, '--cached') };
        const given = Object.fromEntries(Object.entries(prices).filter(([, v]) => v !== undefined));
        const contextWindow = positiveInt(o.context, '--context');
        const maxOutput = positiveInt(o.maxOutput, '--max-output');
        const client = await clientFor(context, command);
        return client.setModelOverride({
          body: {
            id,
            ...(o.tier === undefined ? {} : { tier: o.tier }),
            ...(Object.keys(given).length === 0 ? {} : { prices: given }),
            ...(contextWindow === undefined ? {} : { context_window: contextWindow }),
            ...(maxOutput === undefined ? {} : { max_output_tokens: maxOutput }),
            ...(o.disable ? { disabled: true } : {}),
          },
        });
      }),
    );
  models
    .command('unset')
    .description("Drop your tenant's change to a model; the deployment's entry applies again")
    .argument('<id>', 'provider:model')
    .action(
      action(context, async (command, id: string) => {
        await (await clientFor(context, command)).removeModelOverride({ params: { modelId: id } });
        return { id, removed: true };
      }),
    );
  models
    .command('overrides')
    .description("List your tenant's changes to the catalog")
    .action(action(context, async (command) => (await (await clientFor(context, command)).listModelOverrides({})).items));
}
