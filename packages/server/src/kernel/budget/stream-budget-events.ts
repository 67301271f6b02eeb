import { tenantEventSubject, type EventStream } from '../../infra/nats/index.js';
import type { TenantContext } from '../../shared/context/index.js';
import type { IdGenerator } from '../../shared/ids/index.js';
import type { Clock } from '../../shared/ports/index.js';
import type { BudgetEvent, BudgetEventSink } from './ports.js';

/**
 * Publishes budget events to the platform's JetStream event stream, one subject per tenant:
 * `aether.events.<tenant>.budget.threshold_reached`. Subscribers (dashboards, chat channels,
 * a tenant's own webhook relay) read them durably, from any process. Each event's id is also its
 * JetStream message id, deduplicated stream-wide, so `ids` must be unique across processes and
 * restarts (the platform's ULIDs are; a sequential test generator is not).
 */
export class StreamBudgetEvents implements BudgetEventSink {
  readonly #stream: EventStream;
  readonly #ids: IdGenerator;
  readonly #clock: Clock;

  constructor(deps: { stream: EventStream; ids: IdGenerator; clock: Clock }) {
    this.#stream = deps.stream;
    this.#ids = deps.ids;
    this.#clock = deps.clock;
  }

  async publish(ctx: TenantContext, event: BudgetEvent): Promise<void> {
    const id = this.#ids.next('evt');
    await this.#stream.publish(tenantEventSubject(ctx.tenantId, event.type), {
      id,
      type: event.type,
      tenant_id: ctx.tenantId,
      budget_id: event.budgetId,
      scope: event.scope,
      scope_id: event.scopeId,
      level: event.level,
      spent_micros: event.spentMicros,
      limit_micros: event.limitMicros,
      at: this.#clock.now().toISOString(),
    }, { messageId: id });
  }
}
