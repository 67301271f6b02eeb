import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { InMemoryAuditSink } from '../../infra/audit/index.js';
import type { Database } from '../../infra/database/index.js';
import { openTestDatabase } from '../../infra/database/testing/index.js';
import { asTenantId, systemContext } from '../../shared/context/index.js';
import { ValidationError } from '../../shared/errors/index.js';
import { SequentialIdGenerator } from '../../shared/ids/index.js';
import { ManualClock, MemoryLogger, silentLogger } from '../../shared/ports/index.js';
import { BudgetService } from './budget-service.js';
import { runSlotAuction } from './economics.js';
import { BudgetExhaustedError, PriceUnknownError, ReservationNotOpenError } from './errors.js';
import { budgetMigrations } from './migrations.js';
import { PgBudgetStore } from './pg-budget-store.js';
import { RecordingBudgetEvents, RecordingTaskCanceller } from './ports.js';

describe('BudgetService', () => {
  let db: Database;
  let n = 0;
  beforeAll(async () => {
    db = await openTestDatabase('pglite', budgetMigrations);
  });
  afterAll(async () => {
    await db.close();
  });
  function setup() {
    const audit = new InMemoryAuditSink();
    const events = new RecordingBudgetEvents();
    const canceller = new RecordingTaskCanceller();
    const clock = new ManualClock(new Date('2030-03-15T10:00:00Z'));
    const service = new BudgetService({ store: new PgBudgetStore({ db }), audit, clock, ids: new SequentialIdGenerator(), logger: silentLogger, events, canceller });
    const ctx = systemContext(asTenantId(`tnt_bs${String(++n)}`), 'test');
    return { service, audit, events, canceller, clock, ctx };
  }
  const spend = async (service: BudgetService, ctx: ReturnType<typeof setup>['ctx'], amount: number, scope = {}) => {
    const r = await service.reserve(ctx, { amountMicros: amount, kind: 'llm', item: 'm', scope });
    return service.settle(ctx, r.id, amount);
  };

  describe('BudgetService.settle', () => {
    it('alerts once at 75 % with an event and a notification, signals 90 %, and cancels all tenant tasks at 100 %', async () => {
      const { service, events, canceller, audit, ctx } = setup();
      await service.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1000 });
      await spend(service, ctx, 700);
      expect(events.events).toEqual([]);
      await spend(service, ctx, 60);
      await spend(service, ctx, 10);
      expect(events.events.map((e) => e.event.level)).toEqual([75]);
      expect((await service.notifications(ctx)).map((x) => x.level)).toEqual([75]);
      await spend(service, ctx, 150);
      expect(events.events.map((e) => e.event.level)).toEqual([75, 90]);
      expect(canceller.calls).toEqual([]);
      await spend(service, ctx, 80);
      expect(events.events.map((e) => e.event.level)).toEqual([75, 90, 100]);
      expect(canceller.calls).toEqual([expect.objectContaining({ target: 'tenant', id: ctx.tenantId })]);
      expect(audit.kinds(ctx.tenantId)).toEqual(expect.arrayContaining(['budget.threshold_reached', 'budget.work_cancelled']));
      await expect(service.reserve(ctx, { amountMicros: 1, kind: 'llm', item: 'm' })).rejects.toBeInstanceOf(BudgetExhaustedError);
    });

    it('still records the notification, the ledger entry and the cancellation when the event bus is down', async () => {
      const { audit, canceller, clock, ctx } = setup();
      const failing = { publish: () => Promise.reject(new Error('nats: connection closed')) };
      const logger = new MemoryLogger();
      const service = new BudgetService({ store: new PgBudgetStore({ db }), audit, clock, ids: new SequentialIdGenerator(), logger, events: failing, canceller });
      await service.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 100 });
      await spend(service, ctx, 100);
      expect((await service.notifications(ctx)).map((x) => x.level)).toEqual([75]);
      expect(audit.kinds(ctx.tenantId).filter((k) => k === 'budget.threshold_reached')).toHaveLength(3);
      expect(canceller.calls).toEqual([expect.objectContaining({ target: 'tenant' })]);
      const failures = logger.records.filter((r) => r.level === 'error');
      expect(failures.map((r) => [r.event, r.fields['level'], r.fields['error']])).toEqual(
        [75, 90, 100].map((level) => ['budget.event-publish-failed', level, 'nats: connection closed']),
      );
    });

    it('kills only the task whose own limit is reached, and a sub-agent limit kills its task', async () => {
      const { service, canceller, ctx } = setup();
      await service.setBudget(ctx, { scope: 'task', scopeId: 'task_a', period: 'total', limitMicros: 100 });
      await service.setBudget(ctx, { scope: 'subagent', scopeId: 'sub_1', period: 'total', limitMicros: 50 });
      await spend(service, ctx, 100, { taskId: 'task_a' });
      expect(canceller.calls).toEqual([expect.objectContaining({ target: 'task', id: 'task_a' })]);
      await spend(service, ctx, 50, { taskId: 'task_b', subAgentId: 'sub_1' });
      expect(canceller.calls.at(-1)).toMatchObject({ target: 'task', id: 'task_b' });
    });

    it('records each charge in the audit with what was reserved and charged', async () => {
      const { service, audit, ctx } = setup();
      const r = await service.reserve(ctx, { amountMicros: 500, kind: 'tool', item: 'grep', scope: { agentId: 'agt_1' } });
      await service.settle(ctx, r.id, 120);
      const charged = audit.entries.find((e) => e.entry.kind === 'budget.charged');
      expect(charged?.entry.payload).toMatchObject({ kind: 'tool', item: 'grep', charged_micros: 120, reserved_micros: 500, agent_id: 'agt_1' });
      await expect(service.settle(ctx, r.id, 120)).rejects.toBeInstanceOf(ReservationNotOpenError);
    });
  });

  describe('BudgetService.reserve', () => {
    it('refuses negative or fractional amounts', async () => {
      const { service, ctx } = setup();
      await expect(service.reserve(ctx, { amountMicros: -1, kind: 'llm', item: 'm' })).rejects.toBeInstanceOf(ValidationError);
      await expect(service.reserve(ctx, { amountMicros: 1.5, kind: 'llm', item: 'm' })).rejects.toBeInstanceOf(ValidationError);
    });

    it('reports the tightest budget as pressure', async () => {
      const { service, ctx } = setup();
      await service.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 10_000 });
      const agent = await service.setBudget(ctx, { scope: 'agent', scopeId: 'agt_1', period: 'day', limitMicros: 100 });
      await spend(service, ctx, 95, { agentId: 'agt_1' });
      expect(await service.pressure(ctx, { agentId: 'agt_1' })).toMatchObject({ budgetId: agent.id, remainingMicros: 5 });
      expect((await service.pressure(ctx)).utilisation).toBeCloseTo(0.0095);
    });
  });

  describe('BudgetService headroom leases', () => {
    const reservationRows = (ctx: ReturnType<typeof setup>['ctx']) =>
      db.withTenant(ctx.tenantId, async (tx) => (await sql<{ kind: string; status: string; lease_id: string | null }>`select kind, status, lease_id from budget_reservations order by id`.execute(tx)).rows);

    it('far from the limit serves many reservations from one leased slice, charges each exactly, and gives the rest back on close', async () => {
      const { service, audit, ctx } = setup();
      await service.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1_000_000_000 });
      for (let i = 0; i < 20; i++) await spend(service, ctx, 100);
      const rows = await reservationRows(ctx);
      // The first reservation learns the budget's amounts; then one lease of 64 reservations' worth serves the rest.
      expect(rows.filter((r) => r.kind === 'lease')).toHaveLength(1);
      expect(rows.filter((r) => r.kind === 'llm' && r.status === 'settled')).toHaveLength(20);
      expect((await service.listBudgets(ctx))[0]).toMatchObject({ spentMicros: 2000 });
      await service.close();
      expect((await service.listBudgets(ctx))[0]).toMatchObject({ spentMicros: 2000, reservedMicros: 0 });
      expect((await reservationRows(ctx)).filter((r) => r.status === 'open')).toEqual([]);
      expect(audit.entries.filter((e) => e.entry.kind === 'budget.charged')).toHaveLength(20);
    });

    it('leases the next slice in the background once half of the current one is used, so no call waits for a lease', async () => {
      const { service, ctx } = setup();
      await service.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1_000_000_000 });
      // One reservation learns the amounts, then a lease of 64 calls' worth; 33 calls leave less than half of it free.
      for (let i = 0; i < 34; i++) await spend(service, ctx, 100);
      await vi.waitFor(async () => {
        const leases = (await reservationRows(ctx)).filter((r) => r.kind === 'lease');
        expect(leases).toHaveLength(2);
        // The successor took over and the first was closed: its charges moved into spent.
        expect(leases.filter((r) => r.status === 'open')).toHaveLength(1);
      });
      for (let i = 0; i < 10; i++) await spend(service, ctx, 100);
      await service.close();
      expect((await service.listBudgets(ctx))[0]).toMatchObject({ spentMicros: 44 * 100, reservedMicros: 0 });
      expect((await reservationRows(ctx)).filter((r) => r.status === 'open')).toEqual([]);
    });

    it('leases again when a burst drains a fresh lease, instead of reserving the rest of the burst one by one', async () => {
      const { service, ctx } = setup();
      await service.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1_000_000_000 });
      await spend(service, ctx, 100);
      // 200 calls at once: more than three leases' worth, all waiting on the first opening.
      const reservations = await Promise.all(Array.from({ length: 200 }, () => service.reserve(ctx, { amountMicros: 100, kind: 'llm', item: 'm' })));
      await Promise.all(reservations.map((reservation) => service.settle(ctx, reservation.id, 100)));
      const rows = await reservationRows(ctx);
      // Only the first call, which learned the budget's amounts, was reserved in the store on its own.
      expect(rows.filter((r) => r.kind === 'llm' && r.lease_id === null)).toHaveLength(1);
      expect(rows.filter((r) => r.kind === 'lease').length).toBeGreaterThanOrEqual(4);
      await service.close();
      expect((await service.listBudgets(ctx))[0]).toMatchObject({ spentMicros: 201 * 100, reservedMicros: 0 });
    });

    it('near the limit reserves each piece of work in the store, so every last micro-dollar can be spent', async () => {
      const { service, ctx } = setup();
      await service.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 50 * 100 });
      for (let i = 0; i < 50; i++) await spend(service, ctx, 100);
      await expect(service.reserve(ctx, { amountMicros: 100, kind: 'llm', item: 'm' })).rejects.toBeInstanceOf(BudgetExhaustedError);
      expect((await reservationRows(ctx)).filter((r) => r.kind === 'lease')).toEqual([]);
    });

    it('releases carved work back to its lease, and settles it only once', async () => {
      const { service, ctx } = setup();
      await service.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1_000_000_000 });
      await spend(service, ctx, 100);
      const carved = await service.reserve(ctx, { amountMicros: 100, kind: 'llm', item: 'm' });
      expect(await service.release(ctx, carved.id)).toBe(true);
      expect(await service.release(ctx, carved.id)).toBe(false);
      const again = await service.reserve(ctx, { amountMicros: 100, kind: 'llm', item: 'm' });
      await service.settle(ctx, again.id, 40);
      await expect(service.settle(ctx, again.id, 40)).rejects.toBeInstanceOf(ReservationNotOpenError);
      await service.close();
      expect((await service.listBudgets(ctx))[0]).toMatchObject({ spentMicros: 140, reservedMicros: 0 });
    });

    it('applies a new budget at once in this process, and replaces a lease once it is older than its lifetime', async () => {
      const { service, clock, ctx } = setup();
      await service.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1_000_000_000 });
      await spend(service, ctx, 100, { agentId: 'agt_1' });
      await spend(service, ctx, 100, { agentId: 'agt_1' });
      await service.setBudget(ctx, { scope: 'agent', scopeId: 'agt_1', period: 'day', limitMicros: 150 });
      await spend(service, ctx, 100, { agentId: 'agt_1' });
      await expect(service.reserve(ctx, { amountMicros: 100, kind: 'llm', item: 'm', scope: { agentId: 'agt_1' } })).rejects.toBeInstanceOf(BudgetExhaustedError);

      await spend(service, ctx, 100, { agentId: 'agt_2' });
      await spend(service, ctx, 100, { agentId: 'agt_2' });
      const leasesBefore = (await reservationRows(ctx)).filter((r) => r.kind === 'lease').length;
      clock.advance(5_001);
      // The aged lease takes no more work; amounts seen over a second ago are re-read first.
      await spend(service, ctx, 100, { agentId: 'agt_2' });
      await spend(service, ctx, 100, { agentId: 'agt_2' });
      const rows = (await reservationRows(ctx)).filter((r) => r.kind === 'lease');
      expect(rows).toHaveLength(leasesBefore + 1);
      expect(rows.filter((r) => r.status === 'open')).toHaveLength(1);
      await service.close();
    });

    it('can be turned off, reserving every piece of work in the store', async () => {
      const { ctx, audit, clock, events, canceller } = setup();
      const service = new BudgetService({ store: new PgBudgetStore({ db }), audit, clock, ids: new SequentialIdGenerator(), logger: silentLogger, events, canceller, leases: false });
      await service.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1_000_000_000 });
      for (let i = 0; i < 5; i++) await spend(service, ctx, 100);
      expect((await reservationRows(ctx)).filter((r) => r.kind === 'lease')).toEqual([]);
    });
  });

  describe('BudgetService.setBudget', () => {
    it('requires a scope id below the tenant and a valid limit', async () => {
      const { service, ctx } = setup();
      await expect(service.setBudget(ctx, { scope: 'agent', period: 'day', limitMicros: 1 })).rejects.toBeInstanceOf(ValidationError);
      await expect(service.setBudget(ctx, { scope: 'tenant', period: 'day', limitMicros: -5 })).rejects.toBeInstanceOf(ValidationError);
    });
  });

  describe('BudgetService economics', () => {
    it('prices tools and VM seconds from the internal price list and fails closed on unknown VM types', () => {
      const { service } = setup();
      expect(service.toolCallPrice('anything')).toBe(100);
      expect(service.vmSecondsPrice('secure', 2.5)).toBe(300);
      expect(() => service.vmSecondsPrice('quantum', 1)).toThrow(PriceUnknownError);
    });

    it('computes ROI over valued tasks', async () => {
      const { service, ctx } = setup();
      await spend(service, ctx, 200, { taskId: 'task_v' });
      await spend(service, ctx, 999, { taskId: 'task_unvalued' });
      expect((await service.roi(ctx)).roi).toBeNull();
      await service.setTaskValue(ctx, 'task_v', 500);
      expect(await service.roi(ctx)).toEqual({ costMicros: 200, valueMicros: 500, tasks: 1, roi: 1.5 });
    });
  });
});

describe('runSlotAuction', () => {
  it('awards slots by share of budget bid, at a second price, and rejects bids over the remaining budget', () => {
    const result = runSlotAuction(
      [
        { bidder: 'big', bidMicros: 1000, remainingBudgetMicros: 1_000_000, budgetLimitMicros: 1_000_000 },
        { bidder: 'small', bidMicros: 500, remainingBudgetMicros: 800, budgetLimitMicros: 1000 },
        { bidder: 'mid', bidMicros: 2000, remainingBudgetMicros: 10_000, budgetLimitMicros: 10_000 },
        { bidder: 'broke', bidMicros: 900, remainingBudgetMicros: 100, budgetLimitMicros: 1000 },
      ],
      2,
    );
    expect(result.awards.map((a) => a.bidder)).toEqual(['small', 'mid']);
    // The clearing score is big's 0.001; each winner pays that share of its own limit.
    expect(result.awards.map((a) => a.priceMicros)).toEqual([1, 10]);
    expect(result.rejected).toEqual([{ bidder: 'broke', reason: 'exceeds_budget' }, { bidder: 'big', reason: 'outbid' }]);
  });

  it('charges no more than the bid when slots outnumber bidders', () => {
    const result = runSlotAuction([{ bidder: 'a', bidMicros: 10, remainingBudgetMicros: 10, budgetLimitMicros: 100 }], 3);
    expect(result.awards).toEqual([{ bidder: 'a', score: 0.1, priceMicros: 0 }]);
  });
});

describe('StaleReservationReaper.runOnce', () => {
  it('releases reservations older than the maximum age and audits it per tenant', async () => {
    const { InMemoryBudgetStore } = await import('./in-memory-budget-store.js');
    const { StaleReservationReaper } = await import('./stale-reservation-reaper.js');
    const audit = new InMemoryAuditSink();
    const clock = new ManualClock(new Date('2030-03-15T10:00:00Z'));
    const service = new BudgetService({ store: new InMemoryBudgetStore(), audit, clock, ids: new SequentialIdGenerator(), logger: silentLogger, events: new RecordingBudgetEvents(), canceller: new RecordingTaskCanceller() });
    const ctx = systemContext(asTenantId('tnt_reaper'), 'test');
    await service.setBudget(ctx, { scope: 'tenant', period: 'total', limitMicros: 100 });
    await service.reserve(ctx, { amountMicros: 100, kind: 'llm', item: 'm' });
    await expect(service.reserve(ctx, { amountMicros: 1, kind: 'llm', item: 'm' })).rejects.toBeInstanceOf(BudgetExhaustedError);
    const reaper = new StaleReservationReaper({ budget: service, logger: silentLogger, intervalMs: 60_000, maxAgeMs: 300_000 });
    expect(await reaper.runOnce()).toBe(0);
    clock.advance(300_001);
    expect(await reaper.runOnce()).toBe(1);
    expect(audit.kinds(ctx.tenantId)).toContain('budget.reservations_expired');
    await expect(service.reserve(ctx, { amountMicros: 100, kind: 'llm', item: 'm' })).resolves.toBeDefined();
    await reaper.close();
  });
});
