import { ledgerRoutes as contracts } from '@aether/protocol';

import { NotFoundError } from '../../shared/errors/index.js';
import { defineHandler, requireTenant, type RouteDefinition } from '../../shared/http/index.js';
import type { TenantContext } from '../../shared/context/index.js';
import type { LedgerEntryView } from './entry-view.js';
import type { LedgerService } from './ledger-service.js';
import { diffRuns } from './run-diff.js';
import { debugRun, replayRun, simulateRun, type Substitution } from './run-replay.js';

export interface LedgerRoutesDeps {
  readonly ledger: LedgerService;
}

/** Ledger routes under /v1/ledger. */
export function ledgerRoutes(deps: LedgerRoutesDeps): RouteDefinition[] {
  const { ledger } = deps;
  async function run(ctx: TenantContext, runId: string): Promise<LedgerEntryView[]> {
    const entries = await ledger.runEntries(ctx, runId);
    if (entries.length === 0) throw new NotFoundError('run', runId);
    return entries;
  }
  const read = { kind: 'tenant', permission: 'ledger:read' } as const;
  return [
    defineHandler(contracts.appendLedgerEntry, { kind: 'tenant', permission: 'ledger:write' }, async (request) => {
      const { kind, subject, payload, personal } = request.body;
      return ledger.append(requireTenant(request), {
        kind,
        payload,
        ...(subject ? { subject } : {}),
        ...(personal ? { personal: { subjectId: personal.subject_id, fields: personal.fields } } : {}),
      });
    }),
    defineHandler(contracts.listLedgerEntries, read, async (request) => {
      const { kind, actor, subject, from, to, cursor, limit } = request.query;
      const separator = subject?.indexOf(':') ?? -1;
      const page = await ledger.list(requireTenant(request), {
        kind,
        actor,
        subject: subject && separator > 0 ? { [subject.slice(0, separator)]: subject.slice(separator + 1) } : undefined,
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
        afterSeq: cursor ? Number(cursor) : undefined,
        limit,
      });
      return { items: page.items, next_cursor: page.next_cursor === null ? null : String(page.next_cursor) };
    }),
    defineHandler(contracts.getLedgerProof, read, async (request) =>
      ledger.inclusionProof(requireTenant(request), request.params.seq, request.query.tree_size),
    ),
    defineHandler(contracts.getLedgerConsistency, read, async (request) =>
      ledger.consistencyProof(requireTenant(request), request.query.old_size, request.query.new_size),
    ),
    defineHandler(contracts.listLedgerCheckpoints, read, async (request) => {
      const limit = request.query.limit ?? 100;
      const items = await ledger.listCheckpoints(requireTenant(request), { afterSize: request.query.cursor ? Number(request.query.cursor) : 0, limit });
      return { items, next_cursor: items.length === limit ? String(items.at(-1)?.tree_size ?? '') : null };
    }),
    defineHandler(contracts.verifyLedger, read, async (request) =>
      ledger.verify(requireTenant(request), { fromSeq: request.body.from_seq, toSeq: request.body.to_seq }),
    ),
    defineHandler(contracts.replayRun, read, async (request) => {
      const entries = await run(requireTenant(request), request.body.run_id);
      return { run_id: request.body.run_id, ...replayRun(entries) };
    }),
    defineHandler(contracts.simulateRun, read, async (request) => {
      const entries = await run(requireTenant(request), request.body.run_id);
      return { run_id: request.body.run_id, ...simulateRun(entries, request.body.substitutions as Substitution[]) };
    }),
    defineHandler(contracts.debugRun, read, async (request) => {
      const entries = await run(requireTenant(request), request.body.run_id);
      return { run_id: request.body.run_id, ...debugRun(entries, { step: request.body.step, breakpoints: request.body.breakpoints }) };
    }),
    defineHandler(contracts.diffRuns, read, async (request) => {
      const ctx = requireTenant(request);
      const [a, b] = [await run(ctx, request.params.a), await run(ctx, request.params.b)];
      return { a: request.params.a, b: request.params.b, ...diffRuns(a, b) };
    }),
    defineHandler(contracts.listLedgerKeys, read, async () => ({
      keys: (await ledger.publicKeys()).map((key) => ({ ...key.jwk, created_at: key.created_at, retired_at: key.retired_at })),
    })),
    defineHandler(contracts.exportLedger, { kind: 'tenant', permission: 'ledger:export' }, async (request) => {
      const lines: string[] = [];
      for await (const line of ledger.exportBundle(requireTenant(request))) lines.push(line);
      return { bundle: lines.join('') };
    }),
  ];
}
