import { randomBytes } from 'node:crypto';

import { JSONCodec } from 'nats';
import { expect, it } from 'vitest';

import { InMemoryAuditSink } from '../../infra/audit/index.js';
import { EVENT_STREAM, EventStream, tenantEventSubject } from '../../infra/nats/index.js';
import { describeWithNats } from '../../infra/nats/testing/index.js';
import { asTenantId, systemContext } from '../../shared/context/index.js';
import { SequentialIdGenerator, UlidIdGenerator } from '../../shared/ids/index.js';
import { ManualClock, silentLogger } from '../../shared/ports/index.js';
import { BudgetService } from './budget-service.js';
import { InMemoryBudgetStore } from './in-memory-budget-store.js';
import { RecordingTaskCanceller } from './ports.js';
import { StreamBudgetEvents } from './stream-budget-events.js';

describeWithNats('StreamBudgetEvents on NATS JetStream', (connection) => {
  it('publishes each threshold a charge crosses on the tenant subject of the event stream', async () => {
    const clock = new ManualClock(new Date('2030-03-15T10:00:00Z'));
    const ids = new SequentialIdGenerator();
    // Event ids are JetStream message ids, deduplicated stream-wide: they must be unique across runs.
    const events = new StreamBudgetEvents({ stream: await EventStream.open(connection()), ids: new UlidIdGenerator(), clock });
    const service = new BudgetService({
      store: new InMemoryBudgetStore(), audit: new InMemoryAuditSink(), clock, ids, logger: silentLogger, events, canceller: new RecordingTaskCanceller(),
    });
    const ctx = systemContext(asTenantId(`tnt_${randomBytes(6).toString('hex')}`), 'test');
    const budget = await service.setBudget(ctx, { scope: 'tenant', period: 'month', limitMicros: 1000 });
    const reservation = await service.reserve(ctx, { amountMicros: 800, kind: 'llm', item: 'm' });
    await service.settle(ctx, reservation.id, 800);

    const manager = await connection().jetstreamManager();
    const stored = await manager.streams.getMessage(EVENT_STREAM.name, { last_by_subj: tenantEventSubject(ctx.tenantId, 'budget.threshold_reached') });
    expect(JSONCodec().decode(stored.data)).toEqual({
      id: expect.stringMatching(/^evt_/) as unknown, type: 'budget.threshold_reached', tenant_id: ctx.tenantId, budget_id: budget.id,
      scope: 'tenant', scope_id: ctx.tenantId, level: 75, spent_micros: 800, limit_micros: 1000, at: '2030-03-15T10:00:00.000Z',
    });
    await service.close();
  });
});
