import type { TenantContext } from '../../shared/context/index.js';
import type { Logger } from '../../shared/ports/index.js';
import type { AuditEntryInput, AuditReceipt, AuditSink } from './audit-sink.js';

/**
 * Writes audit entries to the structured log, numbered per tenant in this process. Used only
 * where no ledger is wired in; it is not tamper-evident and does not survive a restart.
 */
export class LoggingAuditSink implements AuditSink {
  readonly #log: Logger;
  readonly #counters = new Map<string, number>();

  constructor(logger: Logger) {
    this.#log = logger.child({ module: 'audit' });
  }

  append(ctx: TenantContext, entry: AuditEntryInput): Promise<AuditReceipt> {
    const seq = (this.#counters.get(ctx.tenantId) ?? 0) + 1;
    this.#counters.set(ctx.tenantId, seq);
    const personal = new Set(entry.personal?.fields ?? []);
    const payload = Object.fromEntries(Object.entries(entry.payload).map(([key, value]) => [key, personal.has(key) ? '[personal]' : value]));
    this.#log.info('audit.recorded', {
      tenant_id: ctx.tenantId,
      kind: entry.kind,
      actor: entry.actor ?? { type: ctx.principal.type, id: ctx.principal.id },
      subject: entry.subject ?? {},
      payload,
      seq,
    });
    return Promise.resolve({ seq, hash: '' });
  }
}
