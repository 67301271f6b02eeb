import { sql, type RawBuilder } from 'kysely';

import type { AuditReceipt } from '../../infra/audit/index.js';
import type { DbTransaction } from '../../infra/database/index.js';
import type { Clock } from '../../shared/ports/index.js';
import { signCheckpoint, signEntry } from './entry.js';
import { GENESIS_HASH, type SignedCheckpoint } from './format.js';
import { MerkleFrontier, merkleLeafHash } from './merkle.js';
import type { LedgerSigningKey } from './signing.js';
import type { SubjectKeys } from './subject-keys.js';
import type { ValidatedEntry } from './validate-entry.js';

/** A tenant's chain head, locked for the rest of the transaction. */
export interface LockedHead {
  readonly seq: number;
  readonly hash: string;
  readonly frontier: MerkleFrontier;
  readonly checkpointSeq: number;
  readonly checkpointAt: Date | null;
}

interface HeadRow {
  seq: number;
  hash: string;
  frontier: string[] | string;
  checkpoint_seq: number;
  checkpoint_at: Date | string | null;
}

/**
 * Locks the tenant's head row (`SELECT … FOR UPDATE`), creating it on first use. Every writer of
 * the tenant, in any process, queues here, which is what keeps the chain single and gapless.
 */
export async function lockHead(tx: DbTransaction, tenantId: string): Promise<LockedHead> {
  const select = () => sql<HeadRow>`select seq, hash, frontier, checkpoint_seq, checkpoint_at from ledger_heads
      where tenant_id = ${tenantId} for update`.execute(tx);
  let row = (await select()).rows[0];
  if (!row) {
    await sql`insert into ledger_heads (tenant_id, seq, hash, frontier) values (${tenantId}, 0, ${GENESIS_HASH}, '[]'::jsonb)
        on conflict (tenant_id) do nothing`.execute(tx);
    row = (await select()).rows[0];
    if (!row) throw new Error('ledger head row vanished');
  }
  const nodes = typeof row.frontier === 'string' ? (JSON.parse(row.frontier) as string[]) : row.frontier;
  const seq = row.seq;
  return {
    seq,
    hash: row.hash,
    frontier: new MerkleFrontier(seq, nodes.map((hex) => Buffer.from(hex, 'hex'))),
    checkpointSeq: row.checkpoint_seq,
    checkpointAt: row.checkpoint_at ? new Date(row.checkpoint_at) : null,
  };
}

type SignedCheckpointWithTime = SignedCheckpoint & { parsed: { root_hash: string; time: string } };

/** The statements that store `checkpoints` and move the head's checkpoint mark to the last one. */
function checkpointStatements(tenantId: string, checkpoints: readonly SignedCheckpointWithTime[]): RawBuilder<unknown>[] {
  const last = checkpoints.at(-1);
  if (!last) return [];
  const rows = checkpoints.map((cp) => sql`(${tenantId}, ${cp.tree_size}, ${cp.parsed.root_hash}, ${new Date(cp.parsed.time)}, ${cp.body}, ${cp.hash}, ${cp.key_id}, ${cp.signature})`);
  return [
    sql`insert into ledger_checkpoints (tenant_id, tree_size, root_hash, created_at, body, hash, key_id, signature) values ${sql.join(rows)}`,
    sql`update ledger_heads set checkpoint_seq = ${last.tree_size}, checkpoint_at = ${new Date(last.parsed.time)} where tenant_id = ${tenantId}`,
  ];
}

export async function insertCheckpoints(tx: DbTransaction, tenantId: string, checkpoints: readonly SignedCheckpointWithTime[]): Promise<void> {
  for (const statement of checkpointStatements(tenantId, checkpoints)) await statement.execute(tx);
}

export interface BatchWriterDeps {
  readonly clock: Clock;
  readonly subjects: SubjectKeys;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
}

/** An entry ready to sign: its payload already sealed where it holds personal fields. */
type SealedEntry = ValidatedEntry & { readonly storedPayload: Readonly<Record<string, unknown>> };

/** A batch signed on top of a known head: what to write, the receipts, and the head after it. */
interface PlannedBatch {
  readonly tenantId: string;
  readonly before: LockedHead;
  readonly after: LockedHead;
  readonly rows: readonly RawBuilder<unknown>[];
  readonly checkpoints: readonly SignedCheckpointWithTime[];
  readonly receipts: readonly AuditReceipt[];
  readonly now: Date;
}

/**
 * Signs `entries` in order on top of `head`, with a signed checkpoint wherever one falls due
 * (every N entries, or T since the last). Pure: `head` is left as it was.
 */
function planBatch(head: LockedHead, entries: readonly SealedEntry[], deps: Omit<BatchWriterDeps, 'subjects'> & { key: LedgerSigningKey; tenantId: string; now: Date }): PlannedBatch {
  const { tenantId, key, now } = deps;
  const frontier = new MerkleFrontier(head.seq, head.frontier.nodes());
  let seq = head.seq;
  let hash = head.hash;
  let checkpointSeq = head.checkpointSeq;
  // The interval runs from the first entry when there was never a checkpoint.
  let checkpointAtMs = head.checkpointAt?.getTime() ?? now.getTime();
  const rows = [];
  const checkpoints = [];
  const receipts: AuditReceipt[] = [];
  for (const entry of entries) {
    seq += 1;
    const signed = signEntry({ tenantId, seq, time: now, ...entry, payload: entry.storedPayload, prevHash: hash }, key);
    hash = signed.hash;
    frontier.push(merkleLeafHash(Buffer.from(hash, 'hex')));
    rows.push(sql`(${tenantId}, ${seq}, ${now}, ${entry.kind}, ${entry.actor.type}, ${entry.actor.id}, ${JSON.stringify(entry.subject)}::jsonb,
        ${entry.personal?.subject_id ?? null}, ${signed.body}, ${hash}, ${signed.key_id}, ${signed.signature})`);
    receipts.push({ seq, hash });
    if (seq - checkpointSeq >= deps.checkpointEvery || now.getTime() - checkpointAtMs >= deps.checkpointIntervalMs) {
      checkpoints.push(signCheckpoint({ tenantId, treeSize: seq, rootHash: frontier.root().toString('hex'), lastHash: hash, time: now }, key));
      checkpointSeq = seq;
      checkpointAtMs = now.getTime();
    }
  }
  const after: LockedHead = { seq, hash, frontier, checkpointSeq, checkpointAt: checkpoints.length > 0 ? now : (head.checkpointAt ?? now) };
  return { tenantId, before: head, after, rows, checkpoints, receipts, now };
}

/**
 * The statement that writes a planned batch's entries and moves the head onto its last one. With
 * `expectHead`, it refuses itself (`aether_expect`) unless the head is still exactly where the
 * batch was planned, for writes planned without holding the head's lock.
 */
function appendStatement(plan: PlannedBatch, options: { expectHead: boolean }): RawBuilder<unknown> {
  const { tenantId, before, after, now } = plan;
  const frontierJson = JSON.stringify(after.frontier.nodes().map((node) => node.toString('hex')));
  const inserted = sql`insert into ledger_entries (tenant_id, seq, recorded_at, kind, actor_type, actor_id, subject, personal_subject, body, hash, key_id, signature)
      values ${sql.join(plan.rows)} returning seq`;
  const move = sql`update ledger_heads set seq = ${after.seq}, hash = ${after.hash}, frontier = ${frontierJson}::jsonb, checkpoint_at = coalesce(checkpoint_at, ${now})
      where tenant_id = ${tenantId}`;
  if (!options.expectHead) return sql`with inserted as (${inserted}) ${move}`;
  return sql`with inserted as (${inserted}), moved as (${move} and seq = ${before.seq} and hash = ${before.hash} returning 1)
    select aether_expect((select count(*) from moved) = 1, ${`the ledger head of ${tenantId} moved since this process last wrote it`})`;
}

/**
 * Appends `entries` in order inside `tx`: one head lock, one multi-row insert, one head update,
 * and a signed checkpoint wherever one falls due (every N entries or T since the last).
 * @returns the receipts and the head after the batch (a hint for `prepareAppend`).
 */
export async function writeBatch(
  tx: DbTransaction,
  deps: BatchWriterDeps & { key: LedgerSigningKey; tenantId: string },
  entries: readonly ValidatedEntry[],
): Promise<{ receipts: readonly AuditReceipt[]; head: LockedHead }> {
  const { tenantId } = deps;
  const head = await lockHead(tx, tenantId);
  const now = deps.clock.now();
  const sealed: SealedEntry[] = [];
  for (const entry of entries) {
    const storedPayload = entry.personal ? await deps.subjects.seal(tx, { tenantId, personal: entry.personal, payload: entry.payload, now }) : entry.payload;
    sealed.push({ ...entry, storedPayload });
  }
  const plan = planBatch(head, sealed, { ...deps, now });
  // One round trip writes the entries and moves the head.
  await appendStatement(plan, { expectHead: false }).execute(tx);
  await insertCheckpoints(tx, tenantId, plan.checkpoints);
  return { receipts: plan.receipts, head: plan.after };
}

/**
 * Plans `entries` on top of `head` (a hint: the head as this process last wrote or read it) as
 * statements that need no answer before they commit, for a write sent in one round trip. They
 * refuse themselves unless the head is still `head` when they run. Entries with personal fields
 * need their subject's key read in the transaction first, so they cannot be planned here.
 */
export function planHintedAppend(
  head: LockedHead,
  entries: readonly ValidatedEntry[],
  deps: Omit<BatchWriterDeps, 'subjects'> & { key: LedgerSigningKey; tenantId: string },
): { statements: RawBuilder<unknown>[]; receipts: readonly AuditReceipt[]; head: LockedHead } {
  if (entries.some((entry) => entry.personal)) throw new Error('entries with personal fields are sealed in a transaction, not planned on a hint');
  const plan = planBatch(head, entries.map((entry) => ({ ...entry, storedPayload: entry.payload })), { ...deps, now: deps.clock.now() });
  return { statements: [appendStatement(plan, { expectHead: true }), ...checkpointStatements(deps.tenantId, plan.checkpoints)], receipts: plan.receipts, head: plan.after };
}
