import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import { ENTRY_DOMAIN, GENESIS_HASH, type SignedCheckpoint, type SignedEntry } from './format.js';
import { MerkleFrontier, merkleLeafHash } from './merkle.js';
import type { LedgerKeyRing } from './signing.js';
import { checkCheckpoint, verifyChain, type VerifyResult } from './verify.js';

/**
 * Worker body (plain JavaScript, so it runs under tsx, vitest and compiled builds alike): for a
 * chunk of entries, recomputes each hash over the domain and body and checks the body's seq,
 * tenant, key id and link to the previous entry. Answers the first bad index, or -1.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { hash } = require('node:crypto');
parentPort.on('message', ({ domain, tenantId, firstSeq, prevHash, bodies, hashes, keyIds }) => {
  let prev = prevHash;
  for (let i = 0; i < bodies.length; i += 1) {
    let body;
    try { body = JSON.parse(bodies[i]); } catch { parentPort.postMessage(i); return; }
    if (hash('sha256', domain + bodies[i], 'hex') !== hashes[i] || body.seq !== firstSeq + i || body.tenant_id !== tenantId
        || body.key_id !== keyIds[i] || body.prev_hash !== prev) { parentPort.postMessage(i); return; }
    prev = hashes[i];
  }
  parentPort.postMessage(-1);
});
`;

/**
 * The same verification as `verifyChain` (whole chain from seq 1, entry signatures excluded:
 * see `verifySignaturesParallel`), spread over cores: worker threads recompute entry hashes and
 * links while this thread builds the Merkle tree from the claimed hashes and checks every
 * checkpoint. Any failure is re-checked sequentially, so the answer is `verifyChain`'s exactly.
 */
export async function verifyChainParallel(
  entries: readonly SignedEntry[],
  options: { readonly tenantId: string; readonly keys: LedgerKeyRing; readonly checkpoints?: readonly SignedCheckpoint[]; readonly head?: { seq: number; hash: string }; readonly threads?: number },
): Promise<VerifyResult> {
  const sequential = () => verifyChain(entries, { tenantId: options.tenantId, keys: options.keys, checkpoints: options.checkpoints ?? [], signatures: false, ...(options.head ? { head: options.head } : {}) });
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const chunk = Math.ceil(entries.length / threads);
  const workers = Array.from({ length: entries.length === 0 ? 0 : threads }, () => new Worker(WORKER_SOURCE, { eval: true }));
  try {
    const pending = workers.map((worker, w) => {
      const slice = entries.slice(w * chunk, (w + 1) * chunk);
      const before = entries[w * chunk - 1];
      return new Promise<number>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({
          domain: ENTRY_DOMAIN,
          tenantId: options.tenantId,
          firstSeq: w * chunk + 1,
          prevHash: before ? before.hash : GENESIS_HASH,
          bodies: slice.map((entry) => entry.body),
          hashes: slice.map((entry) => entry.hash),
          keyIds: slice.map((entry) => entry.key_id),
        });
      });
    });
    // Meanwhile: seq order, known keys, Merkle roots and checkpoints, from the claimed hashes.
    const checkpoints = new Map((options.checkpoints ?? []).map((checkpoint) => [checkpoint.tree_size, checkpoint]));
    const knownKeys = new Set(options.keys.ids());
    const frontier = new MerkleFrontier();
    let ok = true;
    let checkpointsChecked = 0;
    for (let i = 0; i < entries.length && ok; i += 1) {
      const entry = entries[i] as SignedEntry;
      if (entry.seq !== i + 1 || !knownKeys.has(entry.key_id)) ok = false;
      frontier.push(merkleLeafHash(Buffer.from(entry.hash, 'hex')));
      const checkpoint = checkpoints.get(i + 1);
      if (ok && checkpoint) {
        const checked = checkCheckpoint(checkpoint, options.tenantId, options.keys);
        ok = checked.body?.root_hash === frontier.root().toString('hex') && checked.body.last_hash === entry.hash;
        checkpointsChecked += 1;
      }
    }
    const results = await Promise.all(pending);
    const last = entries.at(-1);
    const beyond = [...checkpoints.keys()].some((size) => size > entries.length);
    const headOk = !options.head || (options.head.seq === entries.length && (entries.length === 0 || options.head.hash === last?.hash));
    if (!ok || beyond || !headOk || results.some((index) => index >= 0)) return sequential();
    return { valid: true, checked: entries.length, checkpoints_checked: checkpointsChecked, first_invalid_seq: null, reason: null };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
