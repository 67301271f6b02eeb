import { sql } from 'kysely';

import { sendPlannedAppend, type AuditEntryInput, type AuditReceipt, type AuditSink, type PreparedAppend } from '../../infra/audit/index.js';
import type { Database, DbTransaction } from '../../infra/database/index.js';
import { KeyedBatcher } from '../../shared/batching/index.js';
import { asTenantId, systemContext, type TenantContext, type TenantId } from '../../shared/context/index.js';
import type { Clock, Logger } from '../../shared/ports/index.js';
import { writeBundle } from './bundle.js';
import { insertCheckpoints, lockHead, planHintedAppend, writeBatch, type BatchWriterDeps } from './append-batch.js';
import { signCheckpoint } from './entry.js';
import { toCheckpointView, toSignedCheckpoint, toSignedEntry, viewOf, type CheckpointRow, type EntryRow, type LedgerCheckpointView, type LedgerEntryView } from './entry-view.js';
import { LedgerProofNotFoundError } from './errors.js';
import { GENESIS_HASH, type EntryBody, type SignedCheckpoint, type SignedEntry } from './format.js';
import { HeadHints } from './head-hints.js';
import { DEFAULT_KIND_NAMESPACES } from './kinds.js';
import { ProofCache } from './proof-cache.js';
import { SigningKeyStore, type LedgerKeyInfo } from './signing-key-store.js';
import type { LedgerSigningKey } from './signing.js';
import { SubjectKeys } from './subject-keys.js';
import { validateEntry, type ValidatedEntry } from './validate-entry.js';
import { ChainVerifier, type VerifyResult } from './verify.js';

export interface LedgerOptions {
  /** Sign a checkpoint at least every this many entries (default 1000). */
  readonly checkpointEvery?: number;
  /** ... or when the last one is older than this, at the next append (default 60 s). */
  readonly checkpointIntervalMs?: number;
  /** Largest canonical payload accepted, in bytes (default 64 KiB). */
  readonly maxPayloadBytes?: number;
  /** Kind namespaces beyond `DEFAULT_KIND_NAMESPACES`. */
  readonly extraNamespaces?: readonly string[];
}

export interface LedgerServiceDeps {
  readonly db: Database;
  /** The 32-byte platform master key; signing keys and subject keys are sealed under keys derived from it. */
  readonly masterKey: Buffer;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options?: LedgerOptions;
}

export interface EntryFilter {
  readonly kind?: string | undefined;
  readonly actor?: string | undefined;
  readonly subject?: Readonly<Record<string, string>> | undefined;
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
  /** Cursor: only entries with a greater seq. */
  readonly afterSeq?: number | undefined;
  readonly limit?: number | undefined;
}

interface HeadRow {
  seq: number;
  hash: string;
}

const BATCH = 2000;

/**
 * The tenant's signed, tamper-evident ledger and the platform's `AuditSink`. Appends of one
 * tenant serialize on that tenant's head row (`SELECT … FOR UPDATE`), across every process on one
 * PostgreSQL, so each chain stays single and gapless; different tenants never wait on each other.
 */
export class LedgerService implements AuditSink {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #keys: SigningKeyStore;
  readonly #subjects: SubjectKeys;
  readonly #proofs: ProofCache;
  readonly #checkpointIntervalMs: number;
  readonly #batchDeps: BatchWriterDeps;
  readonly #hints: HeadHints;
  readonly #groupCommit: KeyedBatcher<ValidatedEntry, AuditReceipt>;
  readonly #limits: { readonly namespaces: ReadonlySet<string>; readonly maxPayloadBytes: number };

  constructor(deps: LedgerServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#log = deps.logger.child({ module: 'ledger' });
    // Embedded PGlite serves one process, so no other process can rotate the key under it.
    const refreshMs = deps.db.engine === 'pglite' ? Number.POSITIVE_INFINITY : 30_000;
    this.#keys = new SigningKeyStore({ db: deps.db, masterKey: deps.masterKey, clock: deps.clock, refreshMs });
    this.#subjects = new SubjectKeys(deps.masterKey);
    this.#proofs = new ProofCache();
    this.#hints = new HeadHints({ clock: deps.clock });
    this.#checkpointIntervalMs = deps.options?.checkpointIntervalMs ?? 60_000;
    this.#batchDeps = {
      clock: deps.clock,
      subjects: this.#subjects,
      checkpointEvery: deps.options?.checkpointEvery ?? 1000,
      checkpointIntervalMs: deps.options?.checkpointIntervalMs ?? 60_000,
    };
    // Group commit: appends of one tenant made in the same event-loop turn, or while its
    // transaction is in flight, go in one batch, so the tenant's head lock and fsync are paid
    // once per batch, not per entry.
    this.#groupCommit = new KeyedBatcher({
      maxBatch: 500,
      onBatchFailure: 'fail-all',
      write: async (tenantId, entries) => {
        // Loading the signing key needs its own connection, so it happens before the transaction opens.
        const key = await this.#keys.active();
        const sent = await sendPlannedAppend(this.#planHinted(tenantId, key, entries), (statements) => deps.db.writeInOneRoundTrip(asTenantId(tenantId), statements));
        if (sent) return sent.receipts;
        return deps.db.withTenant(asTenantId(tenantId), (tx) => this.#writeBatch(tx, { tenantId, key }, entries));
      },
    });
    this.#limits = {
      namespaces: new Set([...DEFAULT_KIND_NAMESPACES, ...(deps.options?.extraNamespaces ?? [])]),
      maxPayloadBytes: deps.options?.maxPayloadBytes ?? 64 * 1024,
    };
  }

  /** Creates the signing key if there is none yet (`aether init`); returns its id. */
  async init(): Promise<string> {
    return (await this.#keys.active()).keyId;
  }

  /**
   * Appends one entry; returns once it is committed (or, with `tx`, as part of that transaction).
   * @throws {LedgerKindInvalidError} {LedgerKindUnknownError} {LedgerPayloadTooLargeError}
   *   {LedgerEntryInvalidError} for bad input; nothing is appended.
   */
  async append(ctx: TenantContext, input: AuditEntryInput, options: { readonly tx?: DbTransaction } = {}): Promise<AuditReceipt> {
    // In the caller's transaction the entry commits (or rolls back) with the effect it records.
    if (options.tx) return (await this.appendAll(ctx, [input], options))[0] as AuditReceipt;
    return this.#groupCommit.submit(ctx.tenantId, validateEntry(ctx, input, this.#limits));
  }

  /**
   * Appends `entries` in order under one head lock and one write: in the caller's transaction
   * with `tx`, else in a transaction of their own. All are validated before any is written.
   * @throws the errors of `append`; nothing is appended.
   */
  async appendAll(ctx: TenantContext, inputs: readonly AuditEntryInput[], options: { readonly tx?: DbTransaction } = {}): Promise<AuditReceipt[]> {
    const entries = inputs.map((input) => validateEntry(ctx, input, this.#limits));
    if (entries.length === 0) return [];
    const { tx } = options;
    // Inside the caller's transaction, use the key already loaded (by `init()` at start-up):
    // loading it would need a second connection, which PGlite does not have.
    const key = tx ? (this.#keys.current() ?? (await this.#keys.active())) : await this.#keys.active();
    return this.#db.withTenant(ctx.tenantId, (scoped) => this.#writeBatch(scoped, { tenantId: ctx.tenantId, key }, entries), { tx });
  }

  /**
   * Plans `inputs` as statements for the caller's own write in one round trip (with its other
   * statements, committed together), on the head this process last saw; undefined when there is
   * no such head, no signing key loaded yet, or personal fields to seal (use `appendAll` in a
   * transaction then). The caller reports the outcome: `committed()` after its commit, which
   * gives the receipts, or `abandoned()` (`sendPlannedAppend` does both). A write refused because
   * the head moved meanwhile committed nothing and is safe to redo through `appendAll`.
   * @throws the validation errors of `append`.
   */
  prepareAppend(ctx: TenantContext, inputs: readonly AuditEntryInput[]): PreparedAppend | undefined {
    const entries = inputs.map((input) => validateEntry(ctx, input, this.#limits));
    const key = this.#keys.current();
    return key ? this.#planHinted(ctx.tenantId, key, entries) : undefined;
  }

  #planHinted(tenantId: string, key: LedgerSigningKey, entries: readonly ValidatedEntry[]): PreparedAppend | undefined {
    // Sealing personal fields reads the subject's key in the transaction: those take the locked path.
    if (entries.length === 0 || entries.some((entry) => entry.personal)) return undefined;
    const head = this.#hints.take(tenantId);
    if (!head) return undefined;
    const planned = planHintedAppend(head, entries, { ...this.#batchDeps, key, tenantId });
    return {
      statements: planned.statements.map((statement) => statement.compile(this.#db.kysely)),
      committed: () => {
        this.#hints.remember(tenantId, planned.head);
        return [...planned.receipts];
      },
      // The hint stays taken: the locked path reads the real head and leaves a new one.
      abandoned: () => {
        this.#hints.failed(tenantId);
      },
    };
  }

  async #writeBatch(tx: DbTransaction, target: { tenantId: string; key: LedgerSigningKey }, entries: readonly ValidatedEntry[]): Promise<AuditReceipt[]> {
    const written = await writeBatch(tx, { ...this.#batchDeps, ...target }, entries);
    // A hint even inside a caller's transaction that may yet roll back: a wrong hint only costs
    // one refused write, which checks the head in the database.
    this.#hints.remember(target.tenantId, written.head);
    return [...written.receipts];
  }

  /** Signs a checkpoint at the current head now, if entries arrived since the last one. */
  async checkpoint(ctx: TenantContext): Promise<LedgerCheckpointView | undefined> {
    const key = await this.#keys.active();
    const written = await this.#db.withTenant(ctx.tenantId, async (tx) => {
      const head = await lockHead(tx, ctx.tenantId);
      if (head.seq === 0 || head.seq === head.checkpointSeq) return undefined;
      const checkpoint = signCheckpoint({ tenantId: ctx.tenantId, treeSize: head.seq, rootHash: head.frontier.root().toString('hex'), lastHash: head.hash, time: this.#clock.now() }, key);
      await insertCheckpoints(tx, ctx.tenantId, [checkpoint]);
      this.#log.debug('ledger.checkpointed', { tenantId: ctx.tenantId, treeSize: head.seq });
      return checkpoint;
    });
    return written ? toCheckpointView(written) : undefined;
  }

  /** Entries matching `filter`, oldest first, with a cursor for the next page. */
  async list(ctx: TenantContext, filter: EntryFilter = {}): Promise<{ items: LedgerEntryView[]; next_cursor: number | null }> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    return this.#db.withTenant(ctx.tenantId, async (tx) => {
      const conditions = [sql`tenant_id = ${ctx.tenantId}`, sql`seq > ${filter.afterSeq ?? 0}`];
      if (filter.kind !== undefined) conditions.push(sql`kind = ${filter.kind}`);
      if (filter.actor !== undefined) conditions.push(sql`actor_id = ${filter.actor}`);
      if (filter.subject !== undefined) conditions.push(sql`subject @> ${JSON.stringify(filter.subject)}::jsonb`);
      if (filter.from !== undefined) conditions.push(sql`recorded_at >= ${filter.from}`);
      if (filter.to !== undefined) conditions.push(sql`recorded_at < ${filter.to}`);
      const rows = await sql<EntryRow>`select seq, body, hash, key_id, signature from ledger_entries
          where ${sql.join(conditions, sql` and `)} order by seq limit ${limit + 1}`.execute(tx);
      const page = rows.rows.slice(0, limit).map(toSignedEntry);
      const items = await this.#views(tx, ctx.tenantId, page);
      return { items, next_cursor: rows.rows.length > limit ? (page.at(-1)?.seq ?? null) : null };
    });
  }

  /** Every entry whose subject names `runId` as its `task_id` or `workflow_id`, oldest first. */
  async runEntries(ctx: TenantContext, runId: string): Promise<LedgerEntryView[]> {
    return this.#db.withTenant(ctx.tenantId, async (tx) => {
      const rows = await sql<EntryRow>`select seq, body, hash, key_id, signature from ledger_entries
          where tenant_id = ${ctx.tenantId}
            and (subject @> ${JSON.stringify({ task_id: runId })}::jsonb or subject @> ${JSON.stringify({ workflow_id: runId })}::jsonb)
          order by seq limit 100000`.execute(tx);
      return this.#views(tx, ctx.tenantId, rows.rows.map(toSignedEntry));
    });
  }

  async #views(tx: DbTransaction, tenantId: string, entries: readonly SignedEntry[]): Promise<LedgerEntryView[]> {
    const bodies = entries.map((entry) => JSON.parse(entry.body) as EntryBody);
    const subjectIds = [...new Set(bodies.flatMap((body) => (body.personal ? [body.personal.subject_id] : [])))];
    const keys = await this.#subjects.load(tx, tenantId, subjectIds);
    return entries.map((entry, index) => {
      const body = bodies[index] as EntryBody;
      const opened = body.personal
        ? this.#subjects.open({ tenantId, personal: body.personal, payload: body.payload, key: keys.get(body.personal.subject_id) })
        : { payload: body.payload, redacted: false };
      return viewOf(entry, body, opened);
    });
  }

  /**
   * Deletes a data subject's key, so its personal fields read as erased forever; the chain still
   * verifies. Records `compliance.subject_erased` in the same transaction.
   */
  async eraseSubject(ctx: TenantContext, subjectId: string): Promise<{ erased: boolean; receipt: AuditReceipt }> {
    return this.#db.withTenant(ctx.tenantId, async (tx) => {
      const erased = await this.#subjects.erase(tx, { tenantId: ctx.tenantId, subjectId });
      await sql`insert into ledger_erasures (tenant_id, subject_id, erased_at) values (${ctx.tenantId}, ${subjectId}, ${this.#clock.now()})
          on conflict (tenant_id, subject_id) do update set erased_at = excluded.erased_at`.execute(tx);
      const receipt = await this.append(ctx, { kind: 'compliance.subject_erased', payload: { subject_id: subjectId, key_existed: erased } }, { tx });
      return { erased, receipt };
    });
  }

  /**
   * Verifies the whole chain, or entries `fromSeq`..`toSeq`: hashes, links, signatures, keys,
   * Merkle roots at each checkpoint, and (whole chain) that no checkpoint or the head covers
   * missing entries.
   */
  async verify(ctx: TenantContext, range: { readonly fromSeq?: number | undefined; readonly toSeq?: number | undefined } = {}): Promise<VerifyResult> {
    const keys = await this.#keys.keyRing();
    return this.#db.withTenant(ctx.tenantId, async (tx) => {
      const fromSeq = Math.max(range.fromSeq ?? 1, 1);
      const checkpoints = await this.#checkpointsIn(tx, ctx.tenantId);
      let prevHash = GENESIS_HASH;
      if (fromSeq > 1) {
        const previous = await sql<{ hash: string }>`select hash from ledger_entries where tenant_id = ${ctx.tenantId} and seq = ${fromSeq - 1}`.execute(tx);
        if (!previous.rows[0]) return { valid: false, checked: 0, checkpoints_checked: 0, first_invalid_seq: fromSeq - 1, reason: `entry ${String(fromSeq - 1)} is missing` };
        prevHash = previous.rows[0].hash;
      }
      const verifier = new ChainVerifier({ tenantId: ctx.tenantId, keys, checkpoints, fromSeq, prevHash });
      const whole = range.fromSeq === undefined && range.toSeq === undefined;
      const head = whole ? (await sql<HeadRow>`select seq, hash from ledger_heads where tenant_id = ${ctx.tenantId}`.execute(tx)).rows[0] : undefined;
      const toSeq = range.toSeq ?? Number.MAX_SAFE_INTEGER;
      for (let after = fromSeq - 1; !verifier.failed; ) {
        const rows = await sql<EntryRow>`select seq, body, hash, key_id, signature from ledger_entries
            where tenant_id = ${ctx.tenantId} and seq > ${after} and seq <= ${toSeq} order by seq limit ${BATCH}`.execute(tx);
        for (const row of rows.rows) if (!verifier.push(toSignedEntry(row))) break;
        if (rows.rows.length < BATCH) break;
        after = Number(rows.rows.at(-1)?.seq);
      }
      return verifier.finish({ head: head ? { seq: head.seq, hash: head.hash } : undefined, toSeq: range.toSeq });
    });
  }

  async #checkpointsIn(tx: DbTransaction, tenantId: string): Promise<SignedCheckpoint[]> {
    const rows = await sql<CheckpointRow>`select tree_size, body, hash, key_id, signature from ledger_checkpoints
        where tenant_id = ${tenantId} order by tree_size`.execute(tx);
    return rows.rows.map(toSignedCheckpoint);
  }

  /** Signed checkpoints, oldest first, after `afterSize`. */
  async listCheckpoints(ctx: TenantContext, page: { readonly afterSize?: number; readonly limit?: number } = {}): Promise<LedgerCheckpointView[]> {
    const limit = Math.min(Math.max(page.limit ?? 100, 1), 1000);
    return this.#db.withTenant(ctx.tenantId, async (tx) => {
      const rows = await sql<CheckpointRow>`select tree_size, body, hash, key_id, signature from ledger_checkpoints
          where tenant_id = ${ctx.tenantId} and tree_size > ${page.afterSize ?? 0} order by tree_size limit ${limit}`.execute(tx);
      return rows.rows.map((row) => toCheckpointView(toSignedCheckpoint(row)));
    });
  }

  /**
   * An RFC 9162 inclusion proof of entry `seq` in the tree of `treeSize` entries (default: the
   * latest checkpoint that covers it, else the current head), with that checkpoint when signed.
   * @throws {LedgerProofNotFoundError} when the entry or tree size does not exist.
   */
  async inclusionProof(ctx: TenantContext, seq: number, treeSize?: number): Promise<InclusionProofView> {
    return this.#db.withTenant(ctx.tenantId, async (tx) => {
      const tree = await this.#proofs.tree(tx, ctx.tenantId);
      const latest = (await sql<CheckpointRow>`select tree_size, body, hash, key_id, signature from ledger_checkpoints
          where tenant_id = ${ctx.tenantId} order by tree_size desc limit 1`.execute(tx)).rows[0];
      const size = treeSize ?? (latest && latest.tree_size >= seq ? latest.tree_size : tree.size);
      if (seq < 1 || seq > size || size > tree.size) throw new LedgerProofNotFoundError(`no entry ${String(seq)} in a tree of ${String(size)} entries (ledger has ${String(tree.size)})`);
      const checkpointRow = (await sql<CheckpointRow>`select tree_size, body, hash, key_id, signature from ledger_checkpoints
          where tenant_id = ${ctx.tenantId} and tree_size = ${size}`.execute(tx)).rows[0];
      return {
        seq,
        leaf_index: seq - 1,
        tree_size: size,
        leaf_hash: tree.leafHash(seq - 1).toString('hex'),
        path: tree.inclusionProof(seq - 1, size).map((node) => node.toString('hex')),
        root_hash: tree.root(size).toString('hex'),
        checkpoint: checkpointRow ? toCheckpointView(toSignedCheckpoint(checkpointRow)) : null,
      };
    });
  }

  /** An RFC 9162 consistency proof that the tree of `oldSize` entries is a prefix of the one of `newSize`. */
  async consistencyProof(ctx: TenantContext, oldSize: number, newSize: number): Promise<{ old_size: number; new_size: number; old_root: string; new_root: string; path: string[] }> {
    return this.#db.withTenant(ctx.tenantId, async (tx) => {
      const tree = await this.#proofs.tree(tx, ctx.tenantId);
      if (oldSize < 1 || oldSize > newSize || newSize > tree.size) throw new LedgerProofNotFoundError(`cannot prove ${String(oldSize)} against ${String(newSize)} (ledger has ${String(tree.size)})`);
      return {
        old_size: oldSize,
        new_size: newSize,
        old_root: tree.root(oldSize).toString('hex'),
        new_root: tree.root(newSize).toString('hex'),
        path: tree.consistencyProof(oldSize, newSize).map((node) => node.toString('hex')),
      };
    });
  }

  /** Every signing key ever used, as JWKs. */
  async publicKeys(): Promise<LedgerKeyInfo[]> {
    await this.#keys.active();
    return this.#keys.list();
  }

  /** Retires the active signing key and signs from now on with a new one. */
  async rotateKey(): Promise<string> {
    return this.#keys.rotate();
  }

  /** Signed entries of the tenant up to `upToSeq`, in seq order, read in batches. */
  async *signedEntries(ctx: TenantContext, upToSeq = Number.MAX_SAFE_INTEGER): AsyncGenerator<SignedEntry> {
    for (let after = 0; ; ) {
      const rows = await this.#db.withTenant(ctx.tenantId, async (tx) => (await sql<EntryRow>`select seq, body, hash, key_id, signature
          from ledger_entries where tenant_id = ${ctx.tenantId} and seq > ${after} and seq <= ${upToSeq} order by seq limit ${BATCH}`.execute(tx)).rows);
      for (const row of rows) yield toSignedEntry(row);
      if (rows.length < BATCH) return;
      after = Number(rows.at(-1)?.seq);
    }
  }

  /**
   * The tenant's ledger as an export bundle (JSON lines: header, keys, checkpoints, entries), cut
   * at the head as it was when the export began. See docs/ledger-format.md.
   */
  async *exportBundle(ctx: TenantContext): AsyncGenerator<string> {
    const keys = await this.publicKeys();
    const { head, checkpoints } = await this.#db.withTenant(ctx.tenantId, async (tx) => {
      const row = (await sql<HeadRow>`select seq, hash from ledger_heads where tenant_id = ${ctx.tenantId}`.execute(tx)).rows[0];
      return { head: row ? { seq: row.seq, hash: row.hash } : { seq: 0, hash: GENESIS_HASH }, checkpoints: await this.#checkpointsIn(tx, ctx.tenantId) };
    });
    yield* writeBundle({
      tenantId: ctx.tenantId,
      exportedAt: this.#clock.now(),
      head,
      keys,
      checkpoints: checkpoints.filter((checkpoint) => checkpoint.tree_size <= head.seq),
      entries: this.signedEntries(ctx, head.seq),
    });
  }

  /** Tenants whose newest entries are not yet under a checkpoint older than the interval; for a background loop. */
  async checkpointStale(): Promise<number> {
    const cutoff = new Date(this.#clock.nowMs() - this.#checkpointIntervalMs);
    const rows = await this.#db.withSystem(async (tx) => (await sql<{ tenant_id: string }>`select tenant_id from ledger_heads
        where seq > checkpoint_seq and (checkpoint_at is null or checkpoint_at <= ${cutoff})`.execute(tx)).rows);
    for (const row of rows) {
      await this.checkpoint(systemContext(row.tenant_id as TenantId, 'ledger-checkpointer'));
    }
    return rows.length;
  }
}

/** An inclusion proof as returned by `GET /v1/ledger/entries/{seq}/proof`. */
export interface InclusionProofView {
  readonly seq: number;
  readonly leaf_index: number;
  readonly tree_size: number;
  readonly leaf_hash: string;
  readonly path: string[];
  readonly root_hash: string;
  readonly checkpoint: LedgerCheckpointView | null;
}
