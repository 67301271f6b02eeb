import { describe, expect, it } from 'vitest';

import { signCheckpoint, signEntry } from './entry.js';
import { GENESIS_HASH, type SignedCheckpoint, type SignedEntry } from './format.js';
import { MerkleFrontier, merkleLeafHash } from './merkle.js';
import { verifyChainParallel } from './parallel-verify.js';
import { generateSigningKey, LedgerKeyRing, toPublicJwk } from './signing.js';
import { verifyChain } from './verify.js';

const key = generateSigningKey();
const keys = new LedgerKeyRing([toPublicJwk(key.publicKey)]);

function chain(count: number): { entries: SignedEntry[]; checkpoints: SignedCheckpoint[] } {
  const entries: SignedEntry[] = [];
  const checkpoints: SignedCheckpoint[] = [];
  const frontier = new MerkleFrontier();
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq += 1) {
    const entry = signEntry({ tenantId: 'tnt_a', seq, time: new Date(0), kind: 'tool.called', actor: { type: 'system', id: 's' }, subject: {}, payload: { seq }, personal: null, prevHash }, key);
    entries.push(entry);
    prevHash = entry.hash;
    frontier.push(merkleLeafHash(Buffer.from(entry.hash, 'hex')));
    if (seq % 10 === 0) checkpoints.push(signCheckpoint({ tenantId: 'tnt_a', treeSize: seq, rootHash: frontier.root().toString('hex'), lastHash: entry.hash, time: new Date(0) }, key));
  }
  return { entries, checkpoints };
}

describe('verifyChainParallel', () => {
  it('accepts a valid chain split over threads, checking every checkpoint', async () => {
    const { entries, checkpoints } = chain(95);
    expect(await verifyChainParallel(entries, { tenantId: 'tnt_a', keys, checkpoints, threads: 3 })).toEqual({ valid: true, checked: 95, checkpoints_checked: 9, first_invalid_seq: null, reason: null });
  });

  it.each([
    ['a changed body in the second chunk', (entries: SignedEntry[]) => { entries[60] = { ...(entries[60] as SignedEntry), body: (entries[60] as SignedEntry).body.replace('"seq":61}', '"seq":62}') }; }],
    ['a row deleted at a chunk boundary', (entries: SignedEntry[]) => { entries.splice(32, 1); }],
    ['the newest rows deleted', (entries: SignedEntry[]) => { entries.splice(85); }],
    ['an unknown key id', (entries: SignedEntry[]) => { entries[5] = { ...(entries[5] as SignedEntry), key_id: 'nope' }; }],
  ])('gives the sequential verifier\'s answer for %s', async (_name, tamper) => {
    const { entries, checkpoints } = chain(95);
    tamper(entries);
    const expected = verifyChain(entries, { tenantId: 'tnt_a', keys, checkpoints, signatures: false });
    expect(expected.valid).toBe(false);
    expect(await verifyChainParallel(entries, { tenantId: 'tnt_a', keys, checkpoints, threads: 3 })).toEqual(expected);
  });
});
