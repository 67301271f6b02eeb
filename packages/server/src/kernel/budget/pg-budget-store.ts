import { sql, type CompiledQuery, type RawBuilder } from 'kysely';

import { isRetryableConflict, type Database, type DbTransaction } from '../../infra/database/index.js';
import { asTenantId } from '../../shared/context/index.js';
import {
  periodStart,
  type BudgetNotification,
  type BudgetPeriod,
  type BudgetRecord,
  type BudgetScope,
  type BudgetScopeRef,
  type BudgetStore,
  type BudgetView,
  type ChargeKind,
  type CostDimension,
  type CostRow,
  type LeaseCharge,
  type ReservationInput,
  type ReserveOutcome,
  type SettleOutcome,
  type ThresholdCrossing,
  type WithinBatch,
  type WithinTransaction,
  withPending,
} from './budget-store.js';

interface BudgetRow {
  id: string;
  scope: string;
  scope_id: string;
  period: string;
  period_start: Date | string;
  limit_micros: string | number | bigint;
  spent_micros: string | number | bigint;
  reserved_micros: string | number | bigint;
  alert_level: number | string;
}

const toRecord = (row: BudgetRow): BudgetRecord => ({
  id: row.id,
  scope: row.scope as BudgetScope,
  scopeId: row.scope_id,
  period: row.period as BudgetPeriod,
  periodStart: new Date(row.period_start),
  limitMicros: Number(row.limit_micros),
  spentMicros: Number(row.spent_micros),
  reservedMicros: Number(row.reserved_micros),
  alertLevel: Number(row.alert_level),
});

/** Thrown inside a reservation transaction to roll it back; never escapes the store. */
class ReservationRefused extends Error {
  constructor(readonly budget: BudgetRecord) {
    super('reservation refused');
  }
}

const COLUMNS = sql`id, scope, scope_id, period, period_start, limit_micros, spent_micros, reserved_micros, alert_level`;

/** The alert level of budget row `b` once `charged` (an SQL expression) is added to its spent amount (75/90/100 % of the limit). */
const alertLevelAfter = (charged: RawBuilder<unknown> | number) => sql`greatest(b.alert_level, case
  when b.limit_micros = 0 then case when b.spent_micros + ${charged} > 0 then 100 else 0 end
  when b.spent_micros + ${charged} >= b.limit_micros then 100
  when (b.spent_micros + ${charged}) * 10 >= b.limit_micros * 9 then 90
  when (b.spent_micros + ${charged}) * 4 >= b.limit_micros * 3 then 75
  else 0 end)`;

type SettledBudgetRow = BudgetRow & { previous_level: number | string };

/** Budgets after a charge, and each alert level that rose (seen by exactly this charge, as its rows were locked). */
function chargedBudgets(rows: readonly SettledBudgetRow[]): { budgets: BudgetRecord[]; crossings: ThresholdCrossing[] } {
  const budgets = rows.map(toRecord);
  const crossings: ThresholdCrossing[] = rows
    .map((r, i) => ({ budget: budgets[i], fromLevel: Number(r.previous_level), toLevel: Number(r.alert_level) }))
    .filter((c): c is ThresholdCrossing => c.budget !== undefined && c.toLevel > c.fromLevel);
  return { budgets, crossings };
}

/**
 * BudgetStore over PostgreSQL or PGlite. Atomicity comes from one conditional UPDATE per budget
 * (`spent + reserved + amount <= limit`), taken in id order inside one transaction: PostgreSQL
 * re-checks the condition on the locked row, so concurrent processes serialise on each budget
 * row and can never both pass a limit only one fits under; the fixed order rules out deadlocks.
 */
export class PgBudgetStore implements BudgetStore {
  readonly #db: Database;
  /** Per tenant, the day start up to which this process has already rolled periods over. */
  readonly #rolledOver = new Map<string, number>();

  constructor(deps: { db: Database }) {
    this.#db = deps.db;
  }

  /**
   * Runs `work` in a tenant transaction, again (up to three times) when PostgreSQL rolled it back
   * for a deadlock: lock orders are fixed, but the reaper releasing a lease (lease row, then
   * budgets) can still meet work settling on it (budgets, then lease row).
   */
  async #tx<T>(tenantId: string, work: (tx: DbTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#db.withTenant(asTenantId(tenantId), work);
      } catch (error) {
        if (attempt >= 3 || !isRetryableConflict(error)) throw error;
      }
    }
  }

  async upsert(
    tenantId: string,
    budget: { id: string; scope: BudgetScope; scopeId: string; period: BudgetPeriod; limitMicros: number },
    now: Date,
  ): Promise<BudgetRecord> {
    return this.#tx(tenantId, async (tx) => {
      const start = periodStart(budget.period, now);
      const result = await sql<BudgetRow>`
        insert into budget_limits (tenant_id, id, scope, scope_id, period, period_start, limit_micros, updated_at)
        values (${tenantId}, ${budget.id}, ${budget.scope}, ${budget.scopeId}, ${budget.period}, ${start}, ${budget.limitMicros}, ${now})
        on conflict (tenant_id, scope, scope_id) do update set
          limit_micros = excluded.limit_micros,
          period = excluded.period,
          period_start = case when budget_limits.period = excluded.period then budget_limits.period_start else excluded.period_start end,
          spent_micros = case when budget_limits.period = excluded.period then budget_limits.spent_micros else 0 end,
          alert_level = 0,
          updated_at = excluded.updated_at
        returning ${COLUMNS}`.execute(tx);
      const row = result.rows[0];
      if (!row) throw new Error('upsert returned no row');
      return toRecord(row);
    });
  }

  async list(tenantId: string, now: Date): Promise<BudgetView[]> {
    await this.#ensureRolledOver(tenantId, now);
    return this.#tx(tenantId, async (tx) => {
      // Charges on open leases are not in spent yet (the lease's reservation covers them until it
      // closes); the listing counts them in, so it shows what was spent to the call.
      const result = await sql<BudgetRow & { leased_micros: string | number | null; pending_micros: string | number | null }>`
        select ${COLUMNS}, l.leased as leased_micros, l.pending as pending_micros
        from budget_limits left join lateral (
          select sum(r.amount_micros) as leased,
                 sum((select coalesce(sum(c.charged_micros), 0) from budget_reservations c
                      where c.tenant_id = r.tenant_id and c.lease_id = r.id and c.status = 'settled')) as pending
          from budget_reservations r
          where r.tenant_id = ${tenantId} and r.status = 'open' and r.kind = 'lease' and budget_limits.id = any(r.budget_ids)
        ) l on true
        where tenant_id = ${tenantId} order by scope, scope_id`.execute(tx);
      return result.rows.map((row) => withPending(toRecord(row), { leasedMicros: Number(row.leased_micros ?? 0), pendingMicros: Number(row.pending_micros ?? 0) }));
    });
  }

  async applicable(tenantId: string, scope: BudgetScopeRef, now: Date): Promise<BudgetRecord[]> {
    await this.#ensureRolledOver(tenantId, now);
    return this.#tx(tenantId, async (tx) => {
      const result = await sql<BudgetRow>`
        select ${COLUMNS} from budget_limits where tenant_id = ${tenantId} and (
          scope = 'tenant'
          or (scope = 'agent' and scope_id = ${scope.agentId ?? null})
          or (scope = 'task' and scope_id = ${scope.taskId ?? null})
          or (scope = 'subagent' and scope_id = ${scope.subAgentId ?? null}))
        order by id`.execute(tx);
      return result.rows.map(toRecord);
    });
  }

  async reserve(tenantId: string, input: ReservationInput, now: Date): Promise<ReserveOutcome> {
    await this.#ensureRolledOver(tenantId, now);
    const amount = input.amountMicros;
    try {
      return await this.#tx(tenantId, async (tx) => {
        // One statement: lock the applicable budgets in id order, raise `reserved` only where the
        // amount still fits, and record the reservation only if it fitted everywhere.
        const result = await sql<{ ids: string[] | null; rows: BudgetRow[]; inserted: string | number }>`
          with target as (
            select id from budget_limits where tenant_id = ${tenantId} and (
              scope = 'tenant'
              or (scope = 'agent' and scope_id = ${input.scope.agentId ?? null})
              or (scope = 'task' and scope_id = ${input.scope.taskId ?? null})
              or (scope = 'subagent' and scope_id = ${input.scope.subAgentId ?? null}))
            order by id for update
          ), upd as (
            update budget_limits b set reserved_micros = b.reserved_micros + ${amount}, updated_at = ${now}
            from target t
            where b.tenant_id = ${tenantId} and b.id = t.id and b.spent_micros + b.reserved_micros + ${amount} <= b.limit_micros
            returning b.id, b.scope, b.scope_id, b.period, b.period_start, b.limit_micros, b.spent_micros, b.reserved_micros, b.alert_level
          ), ins as (
            insert into budget_reservations (tenant_id, id, budget_ids, amount_micros, kind, item, agent_id, task_id, subagent_id, status, created_at)
            select ${tenantId}, ${input.id}, coalesce((select array_agg(id order by id) from target), '{}'::text[]), ${amount}, ${input.kind}, ${input.item},
                   ${input.scope.agentId ?? null}, ${input.scope.taskId ?? null}, ${input.scope.subAgentId ?? null}, 'open', ${now}
            where (select count(*) from upd) = (select count(*) from target)
            returning id
          )
          select (select array_agg(id order by id) from target) as ids,
                 (select coalesce(json_agg(upd order by upd.id), '[]'::json) from upd) as rows,
                 (select count(*) from ins) as inserted`.execute(tx);
        const row = result.rows[0];
        const ids = row?.ids ?? [];
        if (Number(row?.inserted ?? 0) === 1) {
          return { ok: true as const, reservation: { ...input, budgetIds: ids }, budgets: (row?.rows ?? []).map(toRecord) };
        }
        const fitted = new Set((row?.rows ?? []).map((r) => r.id));
        const refusedId = ids.find((id) => !fitted.has(id));
        const current = await sql<BudgetRow>`select ${COLUMNS} from budget_limits where tenant_id = ${tenantId} and id = ${refusedId ?? ''}`.execute(tx);
        const refused = current.rows[0];
        if (!refused) throw new Error(`budget ${String(refusedId)} vanished`);
        throw new ReservationRefused(toRecord(refused));
      });
    } catch (error) {
      if (error instanceof ReservationRefused) return { ok: false, budget: error.budget };
      throw error;
    }
  }

  async settle(tenantId: string, charge: { reservationId: string; chargedMicros: number; now: Date }, within?: WithinTransaction): Promise<SettleOutcome | undefined> {
    const { reservationId, chargedMicros: charged, now } = charge;
    return this.#tx(tenantId, async (tx) => {
      // One statement: close the reservation, lock its budgets in id order (as `reserve` does, so
      // the two cannot deadlock), move the amount from reserved to spent, and raise the alert level
      // to the threshold now reached. `locked` holds each level as it was under the lock, so each
      // rise is seen by exactly one settlement.
      const result = await sql<{
        reservation: { budget_ids: string[]; amount_micros: number | string; kind: string; item: string; agent_id: string | null; task_id: string | null; subagent_id: string | null } | null;
        rows: SettledBudgetRow[];
      }>`
        with r as (
          update budget_reservations set status = 'settled', charged_micros = ${charged}, settled_at = ${now}
          where tenant_id = ${tenantId} and id = ${reservationId} and kind <> 'lease' and status = 'open'
          returning budget_ids, amount_micros, kind, item, agent_id, task_id, subagent_id
        ), locked as (
          select b.id, b.alert_level from budget_limits b, r
          where b.tenant_id = ${tenantId} and b.id = any(r.budget_ids) order by b.id for update of b
        ), upd as (
          update budget_limits b set
            reserved_micros = greatest(b.reserved_micros - r.amount_micros, 0),
            spent_micros = b.spent_micros + ${charged},
            alert_level = ${alertLevelAfter(charged)},
            updated_at = ${now}
          from r, locked l
          where b.tenant_id = ${tenantId} and b.id = l.id
          returning b.id, b.scope, b.scope_id, b.period, b.period_start, b.limit_micros, b.spent_micros, b.reserved_micros, b.alert_level, l.alert_level as previous_level
        )
        select (select row_to_json(r) from r) as reservation,
               (select coalesce(json_agg(upd order by upd.id), '[]'::json) from upd) as rows`.execute(tx);
      const row = result.rows[0];
      const reservation = row?.reservation;
      if (!reservation) return undefined;
      const { budgets, crossings } = chargedBudgets(row.rows);
      const outcome: SettleOutcome = {
        reservation: {
          id: reservationId,
          amountMicros: Number(reservation.amount_micros),
          kind: reservation.kind as ChargeKind,
          item: reservation.item,
          scope: {
            ...(reservation.agent_id === null ? {} : { agentId: reservation.agent_id }),
            ...(reservation.task_id === null ? {} : { taskId: reservation.task_id }),
            ...(reservation.subagent_id === null ? {} : { subAgentId: reservation.subagent_id }),
          },
          budgetIds: reservation.budget_ids,
        },
        chargedMicros: charged,
        budgets,
        crossings,
      };
      await within?.(tx, outcome);
      return outcome;
    });
  }

  async release(tenantId: string, reservationId: string, now: Date): Promise<boolean> {
    return this.#tx(tenantId, async (tx) => {
      const open = await sql<{ kind: string }>`
        select kind from budget_reservations where tenant_id = ${tenantId} and id = ${reservationId} and status = 'open' for update`.execute(tx);
      const kind = open.rows[0]?.kind;
      if (kind === undefined) return false;
      if (kind === 'lease') return (await this.#closeLease(tx, { tenantId, leaseId: reservationId, now })) !== undefined;
      const closed = await sql<{ budget_ids: string[]; amount_micros: string | number }>`
        update budget_reservations set status = 'released', charged_micros = 0, settled_at = ${now}
        where tenant_id = ${tenantId} and id = ${reservationId}
        returning budget_ids, amount_micros`.execute(tx);
      const row = closed.rows[0];
      if (!row) return false;
      for (const id of [...row.budget_ids].sort()) {
        await sql`update budget_limits set reserved_micros = greatest(reserved_micros - ${Number(row.amount_micros)}, 0), updated_at = ${now}
                  where tenant_id = ${tenantId} and id = ${id}`.execute(tx);
      }
      return true;
    });
  }

  async settleFromLeases(tenantId: string, batch: { charges: readonly LeaseCharge[]; now: Date }, within?: WithinBatch): Promise<SettleOutcome[]> {
    const { charges, now } = batch;
    if (charges.length === 0) return [];
    return this.#tx(tenantId, async (tx) => {
      // Work on an open lease writes one new row and locks no shared row: the lease's reservation
      // covers it on every budget, and closing the lease moves its charges into spent. A process
      // closes its lease only once all work carved from it has settled, and the reaper only long
      // after any work could still run, so no close misses these rows. One statement records a
      // whole batch and says which leases were open; the caller's entries follow in the same transaction.
      const recorded = await sql<{ id: string; on_open_lease: boolean }>`${recordLeaseCharges(tenantId, batch)}
        select ins.id, ins.lease_id in (select id from open_leases) as on_open_lease from ins`.execute(tx);
      await within?.(tx);
      const onOpenLease = new Set(recorded.rows.filter((row) => row.on_open_lease).map((row) => row.id));
      const outcomes: SettleOutcome[] = [];
      for (const charge of charges) {
        outcomes.push(onOpenLease.has(charge.work.id)
          ? { reservation: charge.work, chargedMicros: charge.chargedMicros, budgets: [], crossings: [] }
          : await this.#moveIntoSpent(tx, { tenantId, charge, now }));
      }
      return outcomes;
    });
  }

  async settleOnOpenLeases(tenantId: string, batch: { charges: readonly LeaseCharge[]; now: Date }, alsoWrite: readonly CompiledQuery[]): Promise<SettleOutcome[]> {
    if (batch.charges.length === 0 && alsoWrite.length === 0) return [];
    // Nothing here waits for an answer, so the charges are recorded only if every lease is still
    // open; otherwise the write refuses itself and settleFromLeases moves them into spent.
    const record = sql`${recordLeaseCharges(tenantId, batch)}
      select aether_expect(not exists (select 1 from ins where ins.lease_id not in (select id from open_leases)), 'a lease of these charges is no longer open')`;
    await this.#db.writeInOneRoundTrip(asTenantId(tenantId), [...(batch.charges.length > 0 ? [record.compile(this.#db.kysely)] : []), ...alsoWrite]);
    return batch.charges.map((charge) => ({ reservation: charge.work, chargedMicros: charge.chargedMicros, budgets: [], crossings: [] }));
  }

  /** Moves a charge whose lease the reaper already released straight into spent on its budgets. */
  async #moveIntoSpent(tx: DbTransaction, at: { tenantId: string; charge: LeaseCharge; now: Date }): Promise<SettleOutcome> {
    const { tenantId, charge: { work, chargedMicros: charged }, now } = at;
    const result = await sql<{ rows: SettledBudgetRow[] }>`
      with locked as (
        select b.id, b.alert_level from budget_limits b
        where b.tenant_id = ${tenantId} and b.id = any(${[...work.budgetIds]}::text[])
        order by b.id for update of b
      ), upd as (
        update budget_limits b set spent_micros = b.spent_micros + ${charged}, alert_level = ${alertLevelAfter(sql`${charged}::bigint`)}, updated_at = ${now}
        from locked l
        where b.tenant_id = ${tenantId} and b.id = l.id
        returning b.id, b.scope, b.scope_id, b.period, b.period_start, b.limit_micros, b.spent_micros, b.reserved_micros, b.alert_level, l.alert_level as previous_level
      )
      select (select coalesce(json_agg(upd order by upd.id), '[]'::json) from upd) as rows`.execute(tx);
    return { reservation: work, chargedMicros: charged, ...chargedBudgets(result.rows[0]?.rows ?? []) };
  }

  async shrinkLease(tenantId: string, lease: { leaseId: string; amountMicros: number }, now: Date): Promise<boolean> {
    const { leaseId, amountMicros } = lease;
    return this.#tx(tenantId, async (tx) => {
      // The lease row first, then its budgets in id order, as when it is closed.
      const result = await sql<{ updated: string | number }>`
        with lease as (
          update budget_reservations r set amount_micros = r.amount_micros - ${amountMicros}
          where r.tenant_id = ${tenantId} and r.id = ${leaseId} and r.kind = 'lease' and r.status = 'open' and r.amount_micros >= ${amountMicros}
          returning r.budget_ids
        ), locked as (
          select b.id from budget_limits b, lease
          where b.tenant_id = ${tenantId} and b.id = any(lease.budget_ids) order by b.id for update of b
        ), upd as (
          update budget_limits b set reserved_micros = greatest(b.reserved_micros - ${amountMicros}, 0), updated_at = ${now}
          from locked l where b.tenant_id = ${tenantId} and b.id = l.id
          returning b.id
        )
        select (select count(*) from lease) as updated, (select count(*) from upd) as budgets`.execute(tx);
      return Number(result.rows[0]?.updated ?? 0) === 1;
    });
  }

  async closeLease(tenantId: string, leaseId: string, now: Date): Promise<{ budgets: BudgetRecord[]; crossings: ThresholdCrossing[] } | undefined> {
    return this.#tx(tenantId, (tx) => this.#closeLease(tx, { tenantId, leaseId, now }));
  }

  /**
   * Closes an open lease: its charges move into spent, what it held leaves reserved, alert levels
   * rise. The first statement locks the lease row (so two closers cannot both apply it), the
   * second sums its charges with a fresh snapshot.
   */
  async #closeLease(
    tx: DbTransaction,
    lease: { tenantId: string; leaseId: string; now: Date },
  ): Promise<{ budgets: BudgetRecord[]; crossings: ThresholdCrossing[] } | undefined> {
    const { tenantId, leaseId, now } = lease;
    const locked = await sql<{ amount_micros: string | number }>`
      select amount_micros from budget_reservations
      where tenant_id = ${tenantId} and id = ${leaseId} and kind = 'lease' and status = 'open' for update`.execute(tx);
    const row = locked.rows[0];
    if (!row) return undefined;
    const held = Number(row.amount_micros);
    const result = await sql<{ rows: SettledBudgetRow[] }>`
      with charges as (
        select coalesce(sum(charged_micros), 0)::bigint as total from budget_reservations
        where tenant_id = ${tenantId} and lease_id = ${leaseId} and status = 'settled'
      ), closed as (
        update budget_reservations r set status = 'released', charged_micros = charges.total, settled_at = ${now}
        from charges where r.tenant_id = ${tenantId} and r.id = ${leaseId}
        returning r.budget_ids
      ), locked as (
        select b.id, b.alert_level from budget_limits b, closed
        where b.tenant_id = ${tenantId} and b.id = any(closed.budget_ids) order by b.id for update of b
      ), upd as (
        update budget_limits b set
          reserved_micros = greatest(b.reserved_micros - ${held}, 0),
          spent_micros = b.spent_micros + charges.total,
          alert_level = ${alertLevelAfter(sql`charges.total`)},
          updated_at = ${now}
        from locked l, charges
        where b.tenant_id = ${tenantId} and b.id = l.id
        returning b.id, b.scope, b.scope_id, b.period, b.period_start, b.limit_micros, b.spent_micros, b.reserved_micros, b.alert_level, l.alert_level as previous_level
      )
      select (select coalesce(json_agg(upd order by upd.id), '[]'::json) from upd) as rows`.execute(tx);
    return chargedBudgets(result.rows[0]?.rows ?? []);
  }

  async releaseStale(before: Date, now: Date): Promise<{ tenantId: string; released: number }[]> {
    // Across tenants, so as the owner role; each reservation is released like `release` does.
    const stale = await this.#db.withSystem((tx) =>
      sql<{ tenant_id: string; id: string }>`select tenant_id, id from budget_reservations where status = 'open' and created_at < ${before} order by tenant_id, id`.execute(tx),
    );
    const counts = new Map<string, number>();
    for (const row of stale.rows) {
      if (await this.release(row.tenant_id, row.id, now)) counts.set(row.tenant_id, (counts.get(row.tenant_id) ?? 0) + 1);
    }
    return [...counts].map(([tenantId, released]) => ({ tenantId, released }));
  }

  async addNotification(tenantId: string, n: BudgetNotification): Promise<void> {
    await this.#tx(tenantId, async (tx) => {
      await sql`insert into budget_notifications (tenant_id, id, budget_id, level, message, created_at)
                values (${tenantId}, ${n.id}, ${n.budgetId}, ${n.level}, ${n.message}, ${n.createdAt})`.execute(tx);
    });
  }

  async notifications(tenantId: string): Promise<BudgetNotification[]> {
    return this.#tx(tenantId, async (tx) => {
      const result = await sql<{ id: string; budget_id: string; level: number | string; message: string; created_at: Date | string }>`
        select id, budget_id, level, message, created_at from budget_notifications where tenant_id = ${tenantId} order by created_at, id`.execute(tx);
      return result.rows.map((r) => ({ id: r.id, budgetId: r.budget_id, level: Number(r.level), message: r.message, createdAt: new Date(r.created_at) }));
    });
  }

  async costs(tenantId: string, by: CostDimension, range: { from?: Date; to?: Date }): Promise<CostRow[]> {
    const key = {
      tenant: sql`tenant_id`,
      agent: sql`coalesce(agent_id, '-')`,
      task: sql`coalesce(task_id, '-')`,
      model: sql`item`,
      day: sql`to_char(settled_at at time zone 'UTC', 'YYYY-MM-DD')`,
    }[by];
    const modelOnly = by === 'model' ? sql`and kind = 'llm'` : sql``;
    return this.#tx(tenantId, async (tx) => {
      const result = await sql<{ key: string; cost: string | number; count: string | number }>`
        select ${key} as key, sum(charged_micros) as cost, count(*) as count from budget_reservations
        where tenant_id = ${tenantId} and status = 'settled' ${modelOnly}
          and settled_at >= ${range.from ?? new Date(0)} and settled_at < ${range.to ?? new Date('9999-01-01T00:00:00Z')}
        group by 1 order by 1`.execute(tx);
      return result.rows.map((r) => ({ key: r.key, costMicros: Number(r.cost), count: Number(r.count) }));
    });
  }

  async setTaskValue(tenantId: string, taskId: string, valueMicros: number): Promise<void> {
    await this.#tx(tenantId, async (tx) => {
      await sql`insert into budget_task_values (tenant_id, task_id, value_micros) values (${tenantId}, ${taskId}, ${valueMicros})
                on conflict (tenant_id, task_id) do update set value_micros = excluded.value_micros`.execute(tx);
    });
  }

  async taskEconomics(tenantId: string): Promise<{ costMicros: number; valueMicros: number; tasks: number }> {
    return this.#tx(tenantId, async (tx) => {
      const result = await sql<{ cost: string | number | null; value: string | number | null; tasks: string | number }>`
        select (select coalesce(sum(r.charged_micros), 0) from budget_reservations r
                  where r.tenant_id = ${tenantId} and r.status = 'settled' and r.task_id in (select task_id from budget_task_values where tenant_id = ${tenantId})) as cost,
               coalesce(sum(v.value_micros), 0) as value, count(*) as tasks
        from budget_task_values v where v.tenant_id = ${tenantId}`.execute(tx);
      const row = result.rows[0];
      return { costMicros: Number(row?.cost ?? 0), valueMicros: Number(row?.value ?? 0), tasks: Number(row?.tasks ?? 0) };
    });
  }

  /**
   * Starts a new period for the tenant's periodic budgets whose period has ended (spent and alerts
   * reset). Every period starts at a UTC day start, so once this process has rolled a tenant over
   * for today it skips the statement until tomorrow: budgets created since carry today's start.
   * It runs in its own transaction, so a refused reservation cannot roll the rollover back.
   */
  async #ensureRolledOver(tenantId: string, now: Date): Promise<void> {
    const day = periodStart('day', now);
    const month = periodStart('month', now);
    if ((this.#rolledOver.get(tenantId) ?? -1) >= day.getTime()) return;
    await this.#tx(tenantId, (tx) => sql`
      update budget_limits set spent_micros = 0, alert_level = 0,
        period_start = case period when 'day' then ${day}::timestamptz else ${month}::timestamptz end
      where tenant_id = ${tenantId} and period <> 'total'
        and period_start < case period when 'day' then ${day}::timestamptz else ${month}::timestamptz end`.execute(tx));
    this.#rolledOver.set(tenantId, day.getTime());
  }
}

/**
 * The start of a statement that records a batch of lease charges as settled rows: its CTEs
 * `open_leases` (which of their leases are open) and `ins` (the rows written), for the caller's
 * final select.
 */
function recordLeaseCharges(tenantId: string, batch: { charges: readonly LeaseCharge[]; now: Date }): RawBuilder<unknown> {
  const { charges, now } = batch;
  const rows = charges.map(({ leaseId, work, chargedMicros }) => ({
    id: work.id, lease_id: leaseId, budget_ids: work.budgetIds, amount_micros: work.amountMicros, charged_micros: chargedMicros, kind: work.kind, item: work.item,
    agent_id: work.scope.agentId ?? null, task_id: work.scope.taskId ?? null, subagent_id: work.scope.subAgentId ?? null,
  }));
  return sql`
    with open_leases as (
      select id from budget_reservations
      where tenant_id = ${tenantId} and kind = 'lease' and status = 'open' and id = any(${[...new Set(charges.map((c) => c.leaseId))]}::text[])
    ), ins as (
      insert into budget_reservations (tenant_id, id, budget_ids, amount_micros, charged_micros, kind, item, agent_id, task_id, subagent_id, status, created_at, settled_at, lease_id)
      select ${tenantId}, c.id, c.budget_ids, c.amount_micros, c.charged_micros, c.kind, c.item, c.agent_id, c.task_id, c.subagent_id, 'settled', ${now}, ${now}, c.lease_id
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as c(id text, lease_id text, budget_ids text[], amount_micros bigint, charged_micros bigint, kind text, item text, agent_id text, task_id text, subagent_id text)
      returning id, lease_id
    )`;
}
