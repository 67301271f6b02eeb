import { AppError } from '../../shared/errors/index.js';

/** A kind that is not dotted lowercase (`task.started`, `llm.call`). Nothing was appended. */
export class LedgerKindInvalidError extends AppError {
  readonly code = 'LEDGER_KIND_INVALID';
  readonly kind = 'invalid';
  constructor(entryKind: string) {
    super(`ledger entry kind "${entryKind.slice(0, 80)}" is not dotted lowercase (e.g. "task.started")`, {
      details: { field: 'kind' },
    });
  }
}

/** A well-formed kind whose namespace (its first segment) is not registered. Nothing was appended. */
export class LedgerKindUnknownError extends AppError {
  readonly code = 'LEDGER_KIND_UNKNOWN';
  readonly kind = 'invalid';
  constructor(entryKind: string, namespace: string) {
    super(`ledger entry kind "${entryKind}" has the unknown namespace "${namespace}"`, {
      details: { field: 'kind', namespace },
    });
  }
}

/** An entry whose canonical payload is over the configured limit. Nothing was appended. */
export class LedgerPayloadTooLargeError extends AppError {
  readonly code = 'LEDGER_PAYLOAD_TOO_LARGE';
  readonly kind = 'too_large';
  constructor(sizeBytes: number, limitBytes: number) {
    super(`ledger payload is ${String(sizeBytes)} bytes; the limit is ${String(limitBytes)}`, {
      details: { field: 'payload', size_bytes: sizeBytes, limit_bytes: limitBytes },
    });
  }
}

/** An entry that is structurally wrong (bad subject, personal field not in payload ...). */
export class LedgerEntryInvalidError extends AppError {
  readonly code = 'LEDGER_ENTRY_INVALID';
  readonly kind = 'invalid';
  constructor(message: string, field: string) {
    super(message, { details: { field } });
  }
}

/** A ledger bundle that cannot be parsed (not JSONL, unknown line type, missing header). */
export class LedgerBundleInvalidError extends AppError {
  readonly code = 'LEDGER_BUNDLE_INVALID';
  readonly kind = 'invalid';
  constructor(message: string, line: number) {
    super(message, { details: { line } });
  }
}

/** A proof asked for a tree size or entry that the tenant's ledger does not have. */
export class LedgerProofNotFoundError extends AppError {
  readonly code = 'LEDGER_PROOF_NOT_FOUND';
  readonly kind = 'not_found';
}

/** The signing key could not be opened with the master key (wrong master key or altered row). */
export class LedgerSigningKeyUnavailableError extends AppError {
  readonly code = 'LEDGER_SIGNING_KEY_UNAVAILABLE';
  readonly kind = 'internal';
}
