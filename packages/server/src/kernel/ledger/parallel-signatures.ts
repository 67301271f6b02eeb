import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import type { SignedEntry } from './format.js';
import type { LedgerKeyRing } from './signing.js';

/**
 * Worker body, as plain JavaScript so it runs the same under tsx, vitest and compiled builds.
 * It receives packed hashes (32 B), signatures (64 B) and key indexes, verifies each with
 * node:crypto, and answers with the index of the first bad signature, or -1.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = workerData.keys.map((x) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));
parentPort.on('message', ({ hashes, signatures, keyIndexes, count }) => {
  const h = Buffer.from(hashes);
  const s = Buffer.from(signatures);
  for (let i = 0; i < count; i += 1) {
    const key = keys[keyIndexes[i]];
    if (!key || !verify(null, h.subarray(i * 32, i * 32 + 32), key, s.subarray(i * 64, i * 64 + 64))) {
      parentPort.postMessage(i);
      return;
    }
  }
  parentPort.postMessage(-1);
});
`;

/**
 * Verifies every entry signature on `threads` worker threads (default: one per core).
 * Returns the seq of the first entry whose signature is invalid or whose key is unknown.
 */
export async function verifySignaturesParallel(
  entries: readonly SignedEntry[],
  keys: LedgerKeyRing,
  threads = availableParallelism(),
): Promise<{ valid: boolean; first_invalid_seq: number | null }> {
  const keyIds = keys.ids();
  const xs = keyIds.map((id) => keys.get(id)?.export({ format: 'jwk' }).x ?? '');
  const indexOf = new Map(keyIds.map((id, index) => [id, index]));
  const workers = Array.from({ length: Math.max(1, Math.min(threads, entries.length)) }, () => new Worker(WORKER_SOURCE, { eval: true, workerData: { keys: xs } }));
  try {
    const chunk = Math.ceil(entries.length / workers.length);
    const results = await Promise.all(
      workers.map((worker, w) => {
        const slice = entries.slice(w * chunk, (w + 1) * chunk);
        const hashes = new Uint8Array(slice.length * 32);
        const signatures = new Uint8Array(slice.length * 64);
        const keyIndexes = new Int32Array(slice.length);
        slice.forEach((entry, i) => {
          hashes.set(Buffer.from(entry.hash, 'hex'), i * 32);
          const signature = Buffer.from(entry.signature, 'base64');
          if (signature.length === 64) signatures.set(signature, i * 64);
          keyIndexes[i] = indexOf.get(entry.key_id) ?? -1;
        });
        return new Promise<number>((resolve, reject) => {
          worker.once('message', (index: number) => {
            resolve(index < 0 ? -1 : (slice[index]?.seq ?? -1));
          });
          worker.once('error', reject);
          worker.postMessage({ hashes: hashes.buffer, signatures: signatures.buffer, keyIndexes, count: slice.length }, [hashes.buffer, signatures.buffer]);
        });
      }),
    );
    const bad = results.filter((seq) => seq >= 0).sort((a, b) => a - b)[0];
    return bad === undefined ? { valid: true, first_invalid_seq: null } : { valid: false, first_invalid_seq: bad };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
