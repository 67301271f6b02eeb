import { describe, expect, it } from 'vitest';

import { signEntry } from './entry.js';
import { GENESIS_HASH, type SignedEntry } from './format.js';
import { verifySignaturesParallel } from './parallel-signatures.js';
import { generateSigningKey, LedgerKeyRing, toPublicJwk } from './signing.js';

const key = generateSigningKey();
const entries: SignedEntry[] = Array.from({ length: 50 }, (_, i) =>
  signEntry({ tenantId: 'tnt_a', seq: i + 1, time: new Date(0), kind: 'tool.called', actor: { type: 'system', id: 's' }, subject: {}, payload: { i }, personal: null, prevHash: GENESIS_HASH }, key),
);
const keys = new LedgerKeyRing([toPublicJwk(key.publicKey)]);

describe('verifySignaturesParallel', () => {
  it('accepts valid signatures checked on two threads', async () => {
    expect(await verifySignaturesParallel(entries, keys, 2)).toEqual({ valid: true, first_invalid_seq: null });
  });

  it('reports the first bad signature across threads, and an unknown key', async () => {
    const tampered = [...entries];
    tampered[40] = { ...(tampered[40] as SignedEntry), signature: (tampered[3] as SignedEntry).signature };
    tampered[30] = { ...(tampered[30] as SignedEntry), key_id: 'unknown' };
    expect(await verifySignaturesParallel(tampered, keys, 2)).toEqual({ valid: false, first_invalid_seq: 31 });
  });
});
