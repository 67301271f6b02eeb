import type { AuditActor, AuditEntryInput } from '../../infra/audit/index.js';
import { canonicalJsonByteLength } from '../../shared/canonical-json/index.js';
import type { TenantContext } from '../../shared/context/index.js';
import { errorMessage } from '../../shared/errors/index.js';
import { LedgerEntryInvalidError, LedgerPayloadTooLargeError } from './errors.js';
import type { LedgerActor, PersonalMarker } from './format.js';
import { assertLedgerKind } from './kinds.js';

const NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
const ACTOR_TYPES = new Set<AuditActor['type']>(['user', 'api_key', 'operator', 'system', 'agent']);
const MAX_SUBJECT_KEYS = 16;
const MAX_REF_LENGTH = 256;

export interface ValidatedEntry {
  readonly kind: string;
  readonly actor: LedgerActor;
  readonly subject: Readonly<Record<string, string>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly personal: PersonalMarker | null;
}

function refOk(value: unknown): value is string {
  // NUL cannot be stored in PostgreSQL text; ids never contain control characters.
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_REF_LENGTH && !/[\u0000-\u001f]/.test(value);
}

/**
 * Checks an entry before anything is written.
 * @throws {LedgerKindInvalidError} / {LedgerKindUnknownError} for a bad kind.
 * @throws {LedgerPayloadTooLargeError} when the canonical payload is over `maxPayloadBytes`.
 * @throws {LedgerEntryInvalidError} for a bad actor, subject, payload or personal marker.
 */
export function validateEntry(
  ctx: TenantContext,
  input: AuditEntryInput,
  limits: { readonly namespaces: ReadonlySet<string>; readonly maxPayloadBytes: number },
): ValidatedEntry {
  assertLedgerKind(input.kind, limits.namespaces);
  const actor = input.actor ?? { type: ctx.principal.type, id: ctx.principal.id };
  if (!ACTOR_TYPES.has(actor.type) || !refOk(actor.id)) throw new LedgerEntryInvalidError('actor needs a known type and an id', 'actor');
  const subject = input.subject ?? {};
  const subjectKeys = Object.keys(subject);
  if (subjectKeys.length > MAX_SUBJECT_KEYS) throw new LedgerEntryInvalidError(`at most ${String(MAX_SUBJECT_KEYS)} subject references`, 'subject');
  for (const key of subjectKeys) {
    if (!NAME_PATTERN.test(key) || !refOk(subject[key])) throw new LedgerEntryInvalidError(`subject reference "${key.slice(0, 64)}" needs a snake_case name and a string id`, `subject.${key.slice(0, 64)}`);
  }
  if (typeof input.payload !== 'object' || Array.isArray(input.payload)) throw new LedgerEntryInvalidError('payload must be an object', 'payload');
  let size: number;
  try {
    size = canonicalJsonByteLength(input.payload);
  } catch (error) {
    throw new LedgerEntryInvalidError(`payload is not JSON: ${errorMessage(error)}`, 'payload');
  }
  if (size > limits.maxPayloadBytes) throw new LedgerPayloadTooLargeError(size, limits.maxPayloadBytes);
  let personal: PersonalMarker | null = null;
  if (input.personal) {
    const { subjectId, fields } = input.personal;
    if (!refOk(subjectId)) throw new LedgerEntryInvalidError('personal.subjectId must be a non-empty id', 'personal.subject_id');
    for (const field of fields) {
      if (!Object.hasOwn(input.payload, field) || input.payload[field] === undefined) {
        throw new LedgerEntryInvalidError(`personal field "${field}" is not in the payload`, 'personal.fields');
      }
    }
    if (fields.length > 0) personal = { subject_id: subjectId, fields: [...new Set(fields)].sort() };
  }
  return { kind: input.kind, actor: { type: actor.type, id: actor.id }, subject: { ...subject }, payload: input.payload, personal };
}
