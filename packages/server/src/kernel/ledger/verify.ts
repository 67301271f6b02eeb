import { checkpointHashBytes, entryHashBytes, GENESIS_HASH, type CheckpointBody, type EntryBody, type SignedCheckpoint, type SignedEntry } from './format.js';
import { MerkleFrontier, merkleLeafHash } from './merkle.js';
import { verifyHashSignature, type LedgerKeyRing } from './signing.js';

/** The answer of a verification: the first thing found wrong, or `valid`. */
export interface VerifyResult {
  readonly valid: boolean;
  /** Entries whose hash, link and (when checked) signature held. */
  readonly checked: number;
  readonly checkpoints_checked: number;
  readonly first_invalid_seq: number | null;
  readonly reason: string | null;
}

export interface ChainVerifierOptions {
  readonly tenantId: string;
  readonly keys: LedgerKeyRing;
  /** Checkpoints of the tenant, any order. Those inside the verified range are checked against the Merkle root. */
  readonly checkpoints?: readonly SignedCheckpoint[];
  /** First seq expected (1 for the whole chain). */
  readonly fromSeq?: number;
  /** Hash of entry `fromSeq - 1`; the genesis hash when starting at 1. */
  readonly prevHash?: string;
  /** Check each entry's Ed25519 signature (true by default; the bench checks them in parallel instead). */
  readonly signatures?: boolean;
}

interface Failure {
  readonly seq: number;
  readonly reason: string;
}

/** Checks one checkpoint's own integrity (hash, body, key, signature), not yet its root. */
export function checkCheckpoint(checkpoint: SignedCheckpoint, tenantId: string, keys: LedgerKeyRing): { body?: CheckpointBody; reason?: string } {
  const size = checkpoint.tree_size;
  if (checkpointHashBytes(checkpoint.body).toString('hex') !== checkpoint.hash) {
    return { reason: `checkpoint at tree size ${String(size)}: hash does not match its body` };
  }
  let body: CheckpointBody;
  try {
    body = JSON.parse(checkpoint.body) as CheckpointBody;
  } catch {
    return { reason: `checkpoint at tree size ${String(size)}: body is not JSON` };
  }
  if (body.tree_size !== size || body.tenant_id !== tenantId || body.key_id !== checkpoint.key_id) {
    return { reason: `checkpoint at tree size ${String(size)}: body does not match its row (size, tenant or key)` };
  }
  const key = keys.get(checkpoint.key_id);
  if (!key) return { reason: `checkpoint at tree size ${String(size)}: unknown key id ${checkpoint.key_id}` };
  if (!verifyHashSignature(key, Buffer.from(checkpoint.hash, 'hex'), checkpoint.signature)) {
    return { reason: `checkpoint at tree size ${String(size)}: signature is invalid` };
  }
  return { body };
}

/**
 * Verifies a chain entry by entry, in seq order, without holding it in memory: each entry's
 * hash over its body, its link to the previous hash, its seq, its key and signature; the
 * Merkle root at every checkpoint inside the range; and, at the end, that no checkpoint covers
 * entries that are gone (which catches deleting the newest rows).
 */
export class ChainVerifier {
  readonly #options: ChainVerifierOptions;
  readonly #frontier: MerkleFrontier | undefined;
  readonly #checkpoints = new Map<number, SignedCheckpoint>();
  #expectedSeq: number;
  #prevHash: string;
  #checked = 0;
  #checkpointsChecked = 0;
  #failure: Failure | undefined;

  constructor(options: ChainVerifierOptions) {
    this.#options = options;
    this.#expectedSeq = options.fromSeq ?? 1;
    this.#prevHash = options.prevHash ?? GENESIS_HASH;
    // Merkle roots are only known when the range starts at the first entry.
    this.#frontier = this.#expectedSeq === 1 ? new MerkleFrontier() : undefined;
    for (const checkpoint of options.checkpoints ?? []) this.#checkpoints.set(checkpoint.tree_size, checkpoint);
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Checks the next entry; returns false once something is wrong (later entries are ignored). */
  push(entry: SignedEntry): boolean {
    if (this.#failure) return false;
    const failure = this.#check(entry);
    if (failure) {
      this.#failure = failure;
      return false;
    }
    this.#prevHash = entry.hash;
    this.#expectedSeq += 1;
    this.#checked += 1;
    return true;
  }

  #check(entry: SignedEntry): Failure | undefined {
    const seq = this.#expectedSeq;
    if (entry.seq > seq) return { seq, reason: `entry ${String(seq)} is missing (next stored entry is ${String(entry.seq)})` };
    if (entry.seq < seq) return { seq: entry.seq, reason: `entry ${String(entry.seq)} is duplicated or out of order` };
    const hash = entryHashBytes(entry.body);
    if (hash.toString('hex') !== entry.hash) return { seq, reason: 'hash does not match the entry body (content altered)' };
    let body: EntryBody;
    try {
      body = JSON.parse(entry.body) as EntryBody;
    } catch {
      return { seq, reason: 'entry body is not JSON' };
    }
    if (body.seq !== seq) return { seq, reason: `entry body says seq ${String(body.seq)} (rows reordered)` };
    if (body.tenant_id !== this.#options.tenantId) return { seq, reason: 'entry belongs to another tenant' };
    if (body.prev_hash !== this.#prevHash) return { seq, reason: 'prev_hash does not link to the previous entry (entry removed, inserted or reordered)' };
    if (body.key_id !== entry.key_id) return { seq, reason: 'key id of the row differs from the signed body' };
    const key = this.#options.keys.get(entry.key_id);
    if (!key) return { seq, reason: `unknown key id ${entry.key_id}` };
    if (this.#options.signatures !== false && !verifyHashSignature(key, hash, entry.signature)) {
      return { seq, reason: 'signature is invalid' };
    }
    if (this.#frontier) {
      this.#frontier.push(merkleLeafHash(hash));
      const checkpoint = this.#checkpoints.get(seq);
      if (checkpoint) return this.#checkCheckpointAt(checkpoint, entry.hash);
    }
    return undefined;
  }

  #checkCheckpointAt(checkpoint: SignedCheckpoint, lastHash: string): Failure | undefined {
    const size = checkpoint.tree_size;
    const checked = checkCheckpoint(checkpoint, this.#options.tenantId, this.#options.keys);
    if (!checked.body) return { seq: size, reason: checked.reason ?? 'checkpoint invalid' };
    const root = (this.#frontier as MerkleFrontier).root().toString('hex');
    if (checked.body.root_hash !== root || checked.body.last_hash !== lastHash) {
      return { seq: size, reason: `checkpoint at tree size ${String(size)}: Merkle root differs from the entries (history rewritten)` };
    }
    this.#checkpointsChecked += 1;
    return undefined;
  }

  /**
   * Ends the verification. `head` is the chain head the store claims; `toSeq` the last seq
   * asked for (omitted for the whole chain).
   */
  finish(expect: { readonly head?: { seq: number; hash: string } | undefined; readonly toSeq?: number | undefined } = {}): VerifyResult {
    const lastSeq = this.#expectedSeq - 1;
    if (!this.#failure && expect.toSeq !== undefined && lastSeq < expect.toSeq) {
      this.#failure = { seq: lastSeq + 1, reason: `entry ${String(lastSeq + 1)} is missing (range ends at ${String(expect.toSeq)})` };
    }
    if (!this.#failure && expect.toSeq === undefined) {
      const beyond = [...this.#checkpoints.keys()].filter((size) => size > lastSeq).sort((a, b) => a - b)[0];
      if (beyond !== undefined) {
        const checkpoint = this.#checkpoints.get(beyond) as SignedCheckpoint;
        const checked = checkCheckpoint(checkpoint, this.#options.tenantId, this.#options.keys);
        this.#failure = checked.body
          ? { seq: lastSeq + 1, reason: `signed checkpoint at tree size ${String(beyond)} covers entries from ${String(lastSeq + 1)} that are missing (newest entries deleted)` }
          : { seq: beyond, reason: checked.reason ?? 'checkpoint invalid' };
      }
    }
    if (!this.#failure && expect.head && expect.toSeq === undefined && (expect.head.seq !== lastSeq || (lastSeq > 0 && expect.head.hash !== this.#prevHash))) {
      this.#failure = { seq: Math.min(expect.head.seq, lastSeq) + 1, reason: `chain head is entry ${String(expect.head.seq)} but the entries end at ${String(lastSeq)}` };
    }
    return {
      valid: !this.#failure,
      checked: this.#checked,
      checkpoints_checked: this.#checkpointsChecked,
      first_invalid_seq: this.#failure?.seq ?? null,
      reason: this.#failure?.reason ?? null,
    };
  }
}

/** Verifies entries held in memory (a bundle, a test); see `ChainVerifier`. */
export function verifyChain(entries: Iterable<SignedEntry>, options: ChainVerifierOptions & { readonly head?: { seq: number; hash: string } }): VerifyResult {
  const verifier = new ChainVerifier(options);
  for (const entry of entries) if (!verifier.push(entry)) break;
  return verifier.finish({ head: options.head });
}
