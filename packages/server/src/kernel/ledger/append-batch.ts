import { sql } from 'kysely';

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

export async function insertCheckpoints(tx: DbTransaction, tenantId: string, checkpoints: readonly (SignedCheckpoint & { parsed: { root_hash: string; time: string } })[]): Promise<void> {
  if (checkpoints.length === 0) return;
  const rows = checkpoints.map((cp) => sql`(${tenantId}, ${cp.tree_size}, ${cp.parsed.root_hash}, ${new Date(cp.parsed.time)}, ${cp.body}, ${cp.hash}, ${cp.key_id}, ${cp.signature})`);
  await sql`insert into ledger_checkpoints (tenant_id, tree_size, root_hash, created_at, body, hash, key_id, signature) values ${sql.join(rows)}`.execute(tx);
  const last = checkpoints.at(-1);
  if (last) await sql`update ledger_heads set checkpoint_seq = ${last.tree_size}, checkpoint_at = ${new Date(last.parsed.time)} where tenant_id = ${tenantId}`.execute(tx);
}

export interface BatchWriterDeps {
  readonly clock: Clock;
  readonly subjects: SubjectKeys;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
}

/**
 * Appends `entries` in order inside `tx`: one head lock, one multi-row insert, one head update,
 * and a signed checkpoint wherever one falls due (every N entries or T since the last).
 */
export async function writeBatch(tx: DbTransaction, deps: BatchWriterDeps & { key: LedgerSigningKey; tenantId: string }, entries: readonly ValidatedEntry[]): Promise<AuditReceipt[]> {
  const { tenantId, key } = deps;
  const head = await lockHead(tx, tenantId);
  const now = deps.clock.now();
  const frontier = head.frontier;
  let seq = head.seq;
  let hash = head.hash;
  let checkpointSeq = head.checkpointSeq;
  // The interval runs from the first entry when there was never a checkpoint.
  let checkpointAtMs = head.checkpointAt?.getTime() ?? now.getTime();
  const rows = [];
  const checkpoints = [];
  const receipts: AuditReceipt[] = [];
  for (const entry of entries) {
    const payload = entry.personal ? await deps.subjects.seal(tx, { tenantId, personal: entry.personal, payload: entry.payload, now }) : entry.payload;
    seq += 1;
    const signed = signEntry({ tenantId, seq, time: now, ...entry, payload, prevHash: hash }, key);
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
  const frontierJson = JSON.stringify(frontier.nodes().map((node) => node.toString('hex')));
  // One round trip writes the entries and moves the head.
  await sql`with inserted as (
      insert into ledger_entries (tenant_id, seq, recorded_at, kind, actor_type, actor_id, subject, personal_subject, body, hash, key_id, signature)
      values ${sql.join(rows)} returning seq)
    update ledger_heads set seq = (select max(seq) from inserted), hash = ${hash}, frontier = ${frontierJson}::jsonb,
      checkpoint_at = coalesce(checkpoint_at, ${now})
    where tenant_id = ${tenantId}`.execute(tx);
  await insertCheckpoints(tx, tenantId, checkpoints);
  return receipts;
}
