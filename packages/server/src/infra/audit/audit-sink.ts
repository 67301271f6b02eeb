import type { CompiledQuery } from 'kysely';

import type { TenantContext } from '../../shared/context/index.js';
import { lostToConcurrentWrite, type DbTransaction } from '../database/index.js';

/** Who caused an audited effect. Defaults to the context's principal. */
export interface AuditActor {
  readonly type: 'user' | 'api_key' | 'operator' | 'system' | 'agent';
  readonly id: string;
}

/**
 * One side effect to record. `kind` is dotted lowercase (`vm.created`, `llm.call`,
 * `budget.charged`, `auth.key_revoked`); `subject` names what it is about (`task_id`, `vm_id`,
 * `tool`, `workflow_id` ...); `personal` lists payload fields holding personal data, which the
 * ledger stores encrypted under a per-subject key so they can be crypto-shredded.
 */
export interface AuditEntryInput {
  readonly kind: string;
  readonly actor?: AuditActor;
  readonly subject?: Readonly<Record<string, string>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly personal?: { readonly subjectId: string; readonly fields: readonly string[] };
}

export interface AuditReceipt {
  readonly seq: number;
  readonly hash: string;
}

/**
 * Where every side effect is recorded. The ledger implements it; modules below the kernel take
 * it as a port. With `tx`, the entry commits in the same transaction as the effect it records.
 */
export interface AuditSink {
  append(ctx: TenantContext, entry: AuditEntryInput, options?: { readonly tx?: DbTransaction }): Promise<AuditReceipt>;
  /**
   * Appends `entries` in order, all or none, as one batch (one write where the sink can): for an
   * effect recorded by several entries, such as a model call's decision, charge and outcome.
   */
  appendAll(ctx: TenantContext, entries: readonly AuditEntryInput[], options?: { readonly tx?: DbTransaction }): Promise<AuditReceipt[]>;
  /**
   * Plans `entries` for a write the caller sends in one round trip, where the sink can (else
   * undefined: use `appendAll` with the caller's transaction). When another writer got there
   * first, PostgreSQL refuses the planned write with an error that `lostToConcurrentWrite`
   * (infra/database) recognises; nothing of it committed, and `appendAll` then records the entries.
   */
  prepareAppend?(ctx: TenantContext, entries: readonly AuditEntryInput[]): PreparedAppend | undefined;
}

/**
 * Entries planned for a write the caller sends itself (its own statements and these, committed
 * together in one round trip; see `Database.writeInOneRoundTrip`).
 */
export interface PreparedAppend {
  readonly statements: readonly CompiledQuery[];
  /** After the caller's write committed: records that, and returns the receipts. */
  committed(): AuditReceipt[];
  /** After the caller's write failed, or when it was never sent: nothing was appended. */
  abandoned(): void;
}

/**
 * Sends a planned append with the caller's own one-round-trip `write` (which carries
 * `planned.statements`) and tells the plan how it went.
 * @returns the write's result and the entries' receipts; undefined when nothing was planned, or
 *   when another writer got there first (nothing committed: record them the locked way instead).
 * @throws whatever else the write throws, such as a lost connection, whose outcome is unknown and
 *   so must not be redone.
 */
export async function sendPlannedAppend<TResult>(
  planned: PreparedAppend | undefined,
  write: (statements: readonly CompiledQuery[]) => Promise<TResult>,
): Promise<{ result: TResult; receipts: AuditReceipt[] } | undefined> {
  if (!planned) return undefined;
  let result: TResult;
  try {
    result = await write(planned.statements);
  } catch (error) {
    planned.abandoned();
    if (lostToConcurrentWrite(error)) return undefined;
    throw error;
  }
  return { result, receipts: planned.committed() };
}

/** Keeps entries in memory, in order, per tenant; for tests of modules that audit. */
export class InMemoryAuditSink implements AuditSink {
  readonly entries: { tenantId: string; entry: AuditEntryInput; actor: AuditActor }[] = [];
  /** The last seq handed out per tenant (benches append millions of entries: no scan per append). */
  readonly #seqs = new Map<string, number>();

  append(ctx: TenantContext, entry: AuditEntryInput): Promise<AuditReceipt> {
    return Promise.resolve(this.#record(ctx, entry));
  }

  #record(ctx: TenantContext, entry: AuditEntryInput): AuditReceipt {
    const actor = entry.actor ?? { type: ctx.principal.type, id: ctx.principal.id };
    this.entries.push({ tenantId: ctx.tenantId, entry, actor });
    const seq = (this.#seqs.get(ctx.tenantId) ?? 0) + 1;
    this.#seqs.set(ctx.tenantId, seq);
    return { seq, hash: `mem-${String(seq)}` };
  }

  appendAll(ctx: TenantContext, entries: readonly AuditEntryInput[]): Promise<AuditReceipt[]> {
    return Promise.resolve(entries.map((entry) => this.#record(ctx, entry)));
  }

  /** Nothing to write in the database: the entries are kept once the caller's write commits. */
  prepareAppend(ctx: TenantContext, entries: readonly AuditEntryInput[]): PreparedAppend {
    return {
      statements: [],
      committed: () => entries.map((entry) => this.#record(ctx, entry)),
      abandoned: () => undefined,
    };
  }

  kinds(tenantId?: string): string[] {
    return this.entries.filter((item) => tenantId === undefined || item.tenantId === tenantId).map((item) => item.entry.kind);
  }
}
