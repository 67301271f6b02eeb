import { sql } from 'kysely';

import type { Database, DbTransaction } from '../../infra/database/index.js';
import { asTenantId } from '../../shared/context/index.js';
import {
  levelOf,
  periodStart,
  type BudgetNotification,
  type BudgetPeriod,
  type BudgetRecord,
  type BudgetScope,
  type BudgetScopeRef,
  type BudgetStore,
  type CostDimension,
  type CostRow,
  type ReservationInput,
  type ReserveOutcome,
  type SettleOutcome,
  type ThresholdCrossing,
  type WithinTransaction,
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

  #tx<T>(tenantId: string, work: (tx: DbTransaction) => Promise<T>): Promise<T> {
    return this.#db.withTenant(asTenantId(tenantId), work);
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

  async list(tenantId: string, now: Date): Promise<BudgetRecord[]> {
    await this.#ensureRolledOver(tenantId, now);
    return this.#tx(tenantId, async (tx) => {
      const result = await sql<BudgetRow>`select ${COLUMNS} from budget_limits where tenant_id = ${tenantId} order by scope, scope_id`.execute(tx);
      return result.rows.map(toRecord);
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
    try {
      return await this.#tx(tenantId, async (tx) => {
        const ids = await this.#applicableIds(tx, tenantId, input.scope);
        const budgets: BudgetRecord[] = [];
        for (const id of ids) {
          const updated = await sql<BudgetRow>`
            update budget_limits set reserved_micros = reserved_micros + ${input.amountMicros}, updated_at = ${now}
            where tenant_id = ${tenantId} and id = ${id} and spent_micros + reserved_micros + ${input.amountMicros} <= limit_micros
            returning ${COLUMNS}`.execute(tx);
          const row = updated.rows[0];
          if (!row) {
            const current = await sql<BudgetRow>`select ${COLUMNS} from budget_limits where tenant_id = ${tenantId} and id = ${id}`.execute(tx);
            const refused = current.rows[0];
            if (!refused) throw new Error(`budget ${id} vanished`);
            throw new ReservationRefused(toRecord(refused));
          }
          budgets.push(toRecord(row));
        }
        await sql`
          insert into budget_reservations (tenant_id, id, budget_ids, amount_micros, kind, item, agent_id, task_id, subagent_id, status, created_at)
          values (${tenantId}, ${input.id}, ${ids}::text[], ${input.amountMicros}, ${input.kind}, ${input.item},
                  ${input.scope.agentId ?? null}, ${input.scope.taskId ?? null}, ${input.scope.subAgentId ?? null}, 'open', ${now})`.execute(tx);
        return { ok: true as const, reservation: { ...input, budgetIds: ids }, budgets };
      });
    } catch (error) {
      if (error instanceof ReservationRefused) return { ok: false, budget: error.budget };
      throw error;
    }
  }

  async settle(tenantId: string, charge: { reservationId: string; chargedMicros: number; now: Date }, within?: WithinTransaction): Promise<SettleOutcome | undefined> {
    const { reservationId, chargedMicros, now } = charge;
    return this.#tx(tenantId, async (tx) => {
      const closed = await sql<{ budget_ids: string[]; amount_micros: string | number; kind: string; item: string; agent_id: string | null; task_id: string | null; subagent_id: string | null }>`
        update budget_reservations set status = 'settled', charged_micros = ${chargedMicros}, settled_at = ${now}
        where tenant_id = ${tenantId} and id = ${reservationId} and status = 'open'
        returning budget_ids, amount_micros, kind, item, agent_id, task_id, subagent_id`.execute(tx);
      const row = closed.rows[0];
      if (!row) return undefined;
      const amount = Number(row.amount_micros);
      const budgets: BudgetRecord[] = [];
      const crossings: ThresholdCrossing[] = [];
      for (const id of [...row.budget_ids].sort()) {
        const updated = await sql<BudgetRow>`
          update budget_limits set reserved_micros = greatest(reserved_micros - ${amount}, 0), spent_micros = spent_micros + ${chargedMicros}, updated_at = ${now}
          where tenant_id = ${tenantId} and id = ${id}
          returning ${COLUMNS}`.execute(tx);
        const budgetRow = updated.rows[0];
        if (!budgetRow) continue;
        let budget = toRecord(budgetRow);
        // This transaction holds the row lock, so the level read here is current: one rise, one signal.
        const level = levelOf(budget);
        if (level > budget.alertLevel) {
          await sql`update budget_limits set alert_level = ${level} where tenant_id = ${tenantId} and id = ${id}`.execute(tx);
          crossings.push({ budget: { ...budget, alertLevel: level }, fromLevel: budget.alertLevel, toLevel: level });
          budget = { ...budget, alertLevel: level };
        }
        budgets.push(budget);
      }
      const outcome: SettleOutcome = {
        reservation: {
          id: reservationId,
          amountMicros: amount,
          kind: row.kind as ReservationInput['kind'],
          item: row.item,
          scope: {
            ...(row.agent_id === null ? {} : { agentId: row.agent_id }),
            ...(row.task_id === null ? {} : { taskId: row.task_id }),
            ...(row.subagent_id === null ? {} : { subAgentId: row.subagent_id }),
          },
          budgetIds: row.budget_ids,
        },
        chargedMicros,
        budgets,
        crossings,
      };
      await within?.(tx, outcome);
      return outcome;
    });
  }

  async release(tenantId: string, reservationId: string, now: Date): Promise<boolean> {
    return this.#tx(tenantId, async (tx) => {
      const closed = await sql<{ budget_ids: string[]; amount_micros: string | number }>`
        update budget_reservations set status = 'released', charged_micros = 0, settled_at = ${now}
        where tenant_id = ${tenantId} and id = ${reservationId} and status = 'open'
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

  async #applicableIds(tx: DbTransaction, tenantId: string, scope: BudgetScopeRef): Promise<string[]> {
    const result = await sql<{ id: string }>`
      select id from budget_limits where tenant_id = ${tenantId} and (
        scope = 'tenant'
        or (scope = 'agent' and scope_id = ${scope.agentId ?? null})
        or (scope = 'task' and scope_id = ${scope.taskId ?? null})
        or (scope = 'subagent' and scope_id = ${scope.subAgentId ?? null}))
      order by id`.execute(tx);
    return result.rows.map((r) => r.id);
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
