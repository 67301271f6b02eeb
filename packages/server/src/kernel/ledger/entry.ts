import { canonicalJson } from '../../shared/canonical-json/index.js';
import {
  checkpointHashBytes,
  entryHashBytes,
  FORMAT_VERSION,
  type CheckpointBody,
  type EntryBody,
  type LedgerActor,
  type PersonalMarker,
  type SignedCheckpoint,
  type SignedEntry,
} from './format.js';
import { signHash, type LedgerSigningKey } from './signing.js';

export interface EntryFields {
  readonly tenantId: string;
  readonly seq: number;
  readonly time: Date;
  readonly kind: string;
  readonly actor: LedgerActor;
  readonly subject: Readonly<Record<string, string>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly personal: PersonalMarker | null;
  readonly prevHash: string;
}

/** Builds, hashes and signs one entry. The body is RFC 8785 canonical JSON. */
export function signEntry(fields: EntryFields, key: LedgerSigningKey): SignedEntry & { readonly parsed: EntryBody } {
  const parsed: EntryBody = {
    v: FORMAT_VERSION,
    tenant_id: fields.tenantId,
    seq: fields.seq,
    time: fields.time.toISOString(),
    kind: fields.kind,
    actor: { type: fields.actor.type, id: fields.actor.id },
    subject: fields.subject,
    payload: fields.payload,
    personal: fields.personal,
    prev_hash: fields.prevHash,
    key_id: key.keyId,
  };
  const body = canonicalJson(parsed);
  const hash = entryHashBytes(body);
  return { seq: fields.seq, body, hash: hash.toString('hex'), key_id: key.keyId, signature: signHash(key, hash), parsed };
}

export interface CheckpointFields {
  readonly tenantId: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly lastHash: string;
  readonly time: Date;
}

/** Builds, hashes and signs one checkpoint (signed tree head). */
export function signCheckpoint(fields: CheckpointFields, key: LedgerSigningKey): SignedCheckpoint & { readonly parsed: CheckpointBody } {
  const parsed: CheckpointBody = {
    v: FORMAT_VERSION,
    tenant_id: fields.tenantId,
    tree_size: fields.treeSize,
    root_hash: fields.rootHash,
    last_hash: fields.lastHash,
    time: fields.time.toISOString(),
    key_id: key.keyId,
  };
  const body = canonicalJson(parsed);
  const hash = checkpointHashBytes(body);
  return { tree_size: fields.treeSize, body, hash: hash.toString('hex'), key_id: key.keyId, signature: signHash(key, hash), parsed };
}
