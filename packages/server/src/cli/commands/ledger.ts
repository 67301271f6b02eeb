import { readFile, writeFile } from 'node:fs/promises';

import type { Command } from 'commander';

import { verifyBundle } from '../../kernel/ledger/index.js';
import { action, clientFor, type CliContext } from '../context.js';
import { CliError, printResult } from '../io.js';
import { positiveInt } from '../options.js';

async function readJwks(file: string): Promise<{ kid: string; x: string }[]> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { keys?: { kid: string; x: string }[] } | { kid: string; x: string }[];
  const keys = Array.isArray(parsed) ? parsed : parsed.keys;
  if (!Array.isArray(keys)) throw new CliError(`${file} holds no JWK set ({"keys": [...]})`, 2);
  return keys;
}

/** aether ledger list|verify|export|proof|diff|keys, and aether task replay. */
export function registerLedgerCommands(program: Command, context: CliContext): void {
  const ledger = program.command('ledger').description('Read, prove, verify and export the signed ledger of your tenant');

  ledger
    .command('list')
    .description('List ledger entries, oldest first')
    .option('--kind <kind>', 'only this kind, e.g. tool.called')
    .option('--actor <id>', 'only entries by this actor id')
    .option('--subject <name:value>', 'only entries about this subject, e.g. task_id:task_01…')
    .option('--from <time>', 'ISO time, inclusive')
    .option('--to <time>', 'ISO time, exclusive')
    .option('--cursor <seq>', 'continue after this seq (the previous page\'s next_cursor)')
    .option('--limit <n>', 'page size (1-1000)', '100')
    .action(
      action(context, async (command) => {
        const options = command.opts<{ kind?: string; actor?: string; subject?: string; from?: string; to?: string; cursor?: string; limit: string }>();
        const page = await (await clientFor(context, command)).listLedgerEntries({
          query: {
            kind: options.kind, actor: options.actor, subject: options.subject, from: options.from, to: options.to,
            cursor: options.cursor, limit: positiveInt(options.limit, '--limit'),
          },
        });
        return page.items.map((item) => ({ seq: item.seq, time: item.time, kind: item.kind, actor: `${item.actor.type}:${item.actor.id}`, subject: item.subject, payload: item.payload, hash: item.hash }));
      }, ['seq', 'time', 'kind', 'actor', 'subject', 'payload']),
    );

  ledger
    .command('verify')
    .description('Verify the chain on the server, or an exported bundle offline (--bundle); exits 1 when invalid')
    .option('--from-seq <seq>', 'first entry of a range')
    .option('--to-seq <seq>', 'last entry of a range')
    .option('--bundle <file>', 'verify this export bundle offline instead of asking the server')
    .option('--keys <file>', 'with --bundle: trust only the keys in this JWK set (from "aether ledger keys")')
    .action(
      action(context, async (command) => {
        const options = command.opts<{ fromSeq?: string; toSeq?: string; bundle?: string; keys?: string }>();
        let result;
        if (options.bundle) {
          const text = await readFile(options.bundle, 'utf8');
          result = await verifyBundle(text.split('\n'), options.keys ? { trustedKeys: await readJwks(options.keys) } : {});
        } else {
          if (options.keys) throw new CliError('--keys goes with --bundle', 2);
          const fromSeq = positiveInt(options.fromSeq, '--from-seq');
          const toSeq = positiveInt(options.toSeq, '--to-seq');
          result = await (await clientFor(context, command)).verifyLedger({
            body: { ...(fromSeq === undefined ? {} : { from_seq: fromSeq }), ...(toSeq === undefined ? {} : { to_seq: toSeq }) },
          });
        }
        if (!result.valid) {
          printResult(context.io, result, { format: globalOptionsFormat(command) === 'json' ? 'json' : 'table' });
          throw new CliError(`the ledger is NOT valid: entry ${String(result.first_invalid_seq)}: ${String(result.reason)}`, 1);
        }
        return result;
      }),
    );

  ledger
    .command('export')
    .description('Export the ledger as a bundle (JSON Lines: header, keys, checkpoints, entries)')
    .option('--out <file>', 'write to this file instead of standard output')
    .action(
      action(context, async (command) => {
        const options = command.opts<{ out?: string }>();
        const { bundle } = await (await clientFor(context, command)).exportLedger({});
        if (options.out) {
          await writeFile(options.out, bundle, { mode: 0o600 });
          return { written: options.out, lines: bundle.split('\n').filter(Boolean).length };
        }
        context.io.out(bundle.trimEnd());
        return undefined;
      }),
    );

  ledger
    .command('proof')
    .description('Inclusion proof of an entry (RFC 9162)')
    .argument('<seq>', 'the entry')
    .option('--tree-size <n>', 'prove against this tree size (default: the latest checkpoint covering it)')
    .action(
      action(context, async (command, seq: string) => {
        const treeSize = positiveInt(command.opts<{ treeSize?: string }>().treeSize, '--tree-size');
        return (await clientFor(context, command)).getLedgerProof({ params: { seq: positiveInt(seq, '<seq>') ?? 1 }, query: { tree_size: treeSize } });
      }),
    );

  ledger
    .command('diff')
    .description('Align two recorded runs (task or workflow ids) and show where they diverge')
    .argument('<a>', 'first run id')
    .argument('<b>', 'second run id')
    .action(
      action(context, async (command, a: string, b: string) => {
        const diff = await (await clientFor(context, command)).diffRuns({ params: { a, b } });
        if (globalOptionsFormat(command) === 'json') return diff;
        context.io.out(diff.first_divergence ? `first divergence: ${diff.first_divergence.reason} (a step ${String(diff.first_divergence.step_a ?? '-')}, b step ${String(diff.first_divergence.step_b ?? '-')})` : 'runs are identical');
        return diff.steps.map((step) => ({ op: step.op, step_a: step.step_a, step_b: step.step_b, kind: step.kind, tool: step.tool, changes: step.changes?.map((change) => change.field) }));
      }),
    );

  ledger
    .command('keys')
    .description('The public signing keys (JWK set); save it to pin them for "verify --bundle --keys"')
    .action(action(context, async (command) => (await clientFor(context, command)).listLedgerKeys({})));

  const task = program.commands.find((candidate) => candidate.name() === 'task') ?? program.command('task').description('Inspect tasks');
  task
    .command('replay')
    .description('Rebuild the timeline and state of a task from the ledger')
    .argument('<id>', 'task id')
    .action(
      action(context, async (command, id: string) => {
        const replay = await (await clientFor(context, command)).replayRun({ body: { run_id: id } });
        if (globalOptionsFormat(command) === 'json') return replay;
        context.io.out(`state: ${JSON.stringify(replay.state)}`);
        return replay.steps.map((step) => ({ step: step.step, seq: step.seq, time: step.time, kind: step.kind, tool: step.tool, payload: step.payload }));
      }),
    );
}

function globalOptionsFormat(command: Command): string {
  return command.optsWithGlobals<{ format: string }>().format;
}
