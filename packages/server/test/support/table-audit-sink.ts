import { sql } from 'kysely';

import type { AuditEntryInput, AuditReceipt, AuditSink } from '../../src/infra/audit/index.js';
import type { Database, DbTransaction, Migration } from '../../src/infra/database/index.js';
import { tenantRlsSql } from '../../src/infra/database/index.js';
import type { TenantContext } from '../../src/shared/context/index.js';

/** A table the stand-in ledger writes to, behind RLS like every tenant table. */
export const testAuditMigrations: Migration[] = [
  {
    module: 'test_audit',
    version: 1,
    name: 'stand-in ledger table',
    up: `create table test_audit (tenant_id text not null, seq bigserial primary key, kind text not null, payload jsonb not null);
${tenantRlsSql('test_audit')}`,
  },
];

/**
 * An AuditSink that writes to a table, inside the caller's transaction when given one, as the
 * ledger will: so a test can check that every charge and its audit entry committed together.
 */
export class TableAuditSink implements AuditSink {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }
  async append(ctx: TenantContext, entry: AuditEntryInput, options: { tx?: DbTransaction } = {}): Promise<AuditReceipt> {
    return this.#db.withTenant(
      ctx.tenantId,
      async (tx) => {
        const result = await sql<{ seq: string }>`insert into test_audit (tenant_id, kind, payload) values (${ctx.tenantId}, ${entry.kind}, ${JSON.stringify(entry.payload)}::jsonb) returning seq`.execute(tx);
        return { seq: Number(result.rows[0]?.seq ?? 0), hash: 'table' };
      },
      { tx: options.tx },
    );
  }

  async appendAll(ctx: TenantContext, entries: readonly AuditEntryInput[], options: { tx?: DbTransaction } = {}): Promise<AuditReceipt[]> {
    return this.#db.withTenant(
      ctx.tenantId,
      async (tx) => {
        const receipts: AuditReceipt[] = [];
        for (const entry of entries) receipts.push(await this.append(ctx, entry, { tx }));
        return receipts;
      },
      { tx: options.tx },
    );
  }
}
