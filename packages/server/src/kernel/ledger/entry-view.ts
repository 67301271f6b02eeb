import type { EntryBody, SignedCheckpoint, SignedEntry } from './format.js';

/** An entry as readers see it: the signed fields, with personal fields opened or shown as erased. */
export type LedgerEntryView = Omit<EntryBody, 'v' | 'tenant_id'> & {
  /** True when a personal field could not be opened because its subject was erased. */
  readonly redacted: boolean;
  readonly hash: string;
  readonly signature: string;
};

export interface EntryRow {
  seq: number;
  body: string;
  hash: string;
  key_id: string;
  signature: string;
}

export interface CheckpointRow {
  tree_size: number;
  body: string;
  hash: string;
  key_id: string;
  signature: string;
}

export function toSignedEntry(row: EntryRow): SignedEntry {
  return { seq: row.seq, body: row.body, hash: row.hash, key_id: row.key_id, signature: row.signature };
}

export function toSignedCheckpoint(row: CheckpointRow): SignedCheckpoint {
  return { tree_size: row.tree_size, body: row.body, hash: row.hash, key_id: row.key_id, signature: row.signature };
}

/** A checkpoint as readers see it. */
export interface LedgerCheckpointView {
  readonly tree_size: number;
  readonly root_hash: string;
  readonly last_hash: string;
  readonly time: string;
  readonly hash: string;
  readonly key_id: string;
  readonly signature: string;
}

export function toCheckpointView(checkpoint: SignedCheckpoint): LedgerCheckpointView {
  const body = JSON.parse(checkpoint.body) as { root_hash: string; last_hash: string; time: string };
  return {
    tree_size: checkpoint.tree_size,
    root_hash: body.root_hash,
    last_hash: body.last_hash,
    time: body.time,
    hash: checkpoint.hash,
    key_id: checkpoint.key_id,
    signature: checkpoint.signature,
  };
}

export function viewOf(entry: SignedEntry, body: EntryBody, opened: { payload: Readonly<Record<string, unknown>>; redacted: boolean }): LedgerEntryView {
  return {
    seq: entry.seq,
    time: body.time,
    kind: body.kind,
    actor: body.actor,
    subject: body.subject,
    payload: opened.payload,
    personal: body.personal,
    redacted: opened.redacted,
    prev_hash: body.prev_hash,
    hash: entry.hash,
    key_id: entry.key_id,
    signature: entry.signature,
  };
}
