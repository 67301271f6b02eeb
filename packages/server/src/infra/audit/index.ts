/**
 * @module infra/audit
 * The AuditSink port through which every module records its side effects (the ledger
 * implements it), and an in-memory sink for tests.
 */
export {
  InMemoryAuditSink,
  sendPlannedAppend,
  type AuditActor,
  type AuditEntryInput,
  type AuditReceipt,
  type AuditSink,
  type PreparedAppend,
} from './audit-sink.js';
