import { describe, expect, it } from 'vitest';

import { signCheckpoint, signEntry } from './entry.js';
import { GENESIS_HASH, type SignedCheckpoint, type SignedEntry } from './format.js';
import { MerkleFrontier, merkleLeafHash } from './merkle.js';
import { generateSigningKey, LedgerKeyRing, toPublicJwk, type LedgerSigningKey } from './signing.js';
import { verifyChain } from './verify.js';

const TENANT = 'tnt_a';

function buildChain(count: number, key: LedgerSigningKey, checkpointEvery = 4): { entries: SignedEntry[]; checkpoints: SignedCheckpoint[] } {
  const entries: SignedEntry[] = [];
  const checkpoints: SignedCheckpoint[] = [];
  const frontier = new MerkleFrontier();
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq += 1) {
    const entry = signEntry(
      {
        tenantId: TENANT, seq, time: new Date(Date.UTC(2030, 0, 1, 0, 0, seq)), kind: 'tool.called',
        actor: { type: 'agent', id: 'agt_1' }, subject: { task_id: 'task_1' }, payload: { tool: 'grep', n: seq },
        personal: null, prevHash,
      },
      key,
    );
    entries.push(entry);
    prevHash = entry.hash;
    frontier.push(merkleLeafHash(Buffer.from(entry.hash, 'hex')));
    if (seq % checkpointEvery === 0) {
      checkpoints.push(signCheckpoint({ tenantId: TENANT, treeSize: seq, rootHash: frontier.root().toString('hex'), lastHash: entry.hash, time: new Date(0) }, key));
    }
  }
  return { entries, checkpoints };
}

const key = generateSigningKey();
const keys = new LedgerKeyRing([toPublicJwk(key.publicKey)]);

function verify(entries: SignedEntry[], checkpoints: SignedCheckpoint[], ring = keys) {
  return verifyChain(entries, { tenantId: TENANT, keys: ring, checkpoints });
}

describe('verifyChain', () => {
  it('accepts an untouched chain and checks every checkpoint inside it', () => {
    const { entries, checkpoints } = buildChain(10, key);
    expect(verify(entries, checkpoints)).toEqual({ valid: true, checked: 10, checkpoints_checked: 2, first_invalid_seq: null, reason: null });
  });

  it('catches a changed payload byte at its seq', () => {
    const { entries, checkpoints } = buildChain(10, key);
    const target = entries[4] as SignedEntry;
    entries[4] = { ...target, body: target.body.replace('"n":5', '"n":6') };
    expect(verify(entries, checkpoints)).toMatchObject({ valid: false, checked: 4, first_invalid_seq: 5, reason: expect.stringContaining('hash does not match') as unknown });
  });

  it('catches a re-hashed body change through the signature', () => {
    const { entries, checkpoints } = buildChain(6, key);
    const other = buildChain(6, generateSigningKey());
    // Same keys ring, body and hash from a chain signed by another key: hash is consistent, signature is not ours.
    entries[2] = { ...(other.entries[2] as SignedEntry), key_id: key.keyId };
    expect(verify(entries, checkpoints)).toMatchObject({ valid: false, first_invalid_seq: 3 });
  });

  it('catches a row deleted in the middle', () => {
    const { entries, checkpoints } = buildChain(10, key);
    entries.splice(6, 1);
    expect(verify(entries, checkpoints)).toMatchObject({ valid: false, first_invalid_seq: 7, reason: expect.stringContaining('missing') as unknown });
  });

  it('catches the newest rows deleted, through a checkpoint that covers them', () => {
    const { entries, checkpoints } = buildChain(10, key);
    entries.splice(6);
    expect(verify(entries, checkpoints)).toMatchObject({ valid: false, first_invalid_seq: 7, reason: expect.stringContaining('newest entries deleted') as unknown });
  });

  it('catches the newest rows deleted against the claimed head even past the last checkpoint', () => {
    const { entries, checkpoints } = buildChain(10, key);
    const head = { seq: 10, hash: (entries[9] as SignedEntry).hash };
    entries.splice(9);
    expect(verifyChain(entries, { tenantId: TENANT, keys, checkpoints, head })).toMatchObject({ valid: false, first_invalid_seq: 10 });
  });

  it('catches reordered rows', () => {
    const { entries, checkpoints } = buildChain(10, key);
    const third = entries[2] as SignedEntry;
    const fourth = entries[3] as SignedEntry;
    // Rows keep their seq column but trade contents, as an UPDATE swapping them would.
    entries[2] = { ...fourth, seq: 3 };
    entries[3] = { ...third, seq: 4 };
    expect(verify(entries, checkpoints)).toMatchObject({ valid: false, first_invalid_seq: 3, reason: expect.stringContaining('reordered') as unknown });
  });

  it('catches a signature swapped with another entry', () => {
    const { entries, checkpoints } = buildChain(10, key);
    entries[7] = { ...(entries[7] as SignedEntry), signature: (entries[8] as SignedEntry).signature };
    expect(verify(entries, checkpoints)).toMatchObject({ valid: false, first_invalid_seq: 8, reason: 'signature is invalid' });
  });

  it('catches an unknown key id', () => {
    const { entries, checkpoints } = buildChain(5, key);
    expect(verify(entries, checkpoints, new LedgerKeyRing())).toMatchObject({ valid: false, first_invalid_seq: 1, reason: expect.stringContaining('unknown key id') as unknown });
  });

  it('catches a forged checkpoint root, signed by an outsider or altered after signing', () => {
    const { entries, checkpoints } = buildChain(8, key);
    const outsider = generateSigningKey();
    const forged = signCheckpoint({ tenantId: TENANT, treeSize: 4, rootHash: 'ab'.repeat(32), lastHash: (entries[3] as SignedEntry).hash, time: new Date(0) }, outsider);
    expect(verify(entries, [forged, checkpoints[1] as SignedCheckpoint])).toMatchObject({ valid: false, first_invalid_seq: 4, reason: expect.stringContaining('unknown key id') as unknown });
    const bothKeys = new LedgerKeyRing([toPublicJwk(key.publicKey), toPublicJwk(outsider.publicKey)]);
    expect(verify(entries, [forged], bothKeys)).toMatchObject({ valid: false, first_invalid_seq: 4, reason: expect.stringContaining('Merkle root differs') as unknown });
    const cp = checkpoints[0] as SignedCheckpoint;
    const altered = { ...cp, body: cp.body.replace(/"root_hash":"[0-9a-f]+"/, `"root_hash":"${'cd'.repeat(32)}"`) };
    expect(verify(entries, [altered])).toMatchObject({ valid: false, first_invalid_seq: 4, reason: expect.stringContaining('hash does not match') as unknown });
  });

  it('catches a forged checkpoint beyond the chain', () => {
    const { entries } = buildChain(5, key);
    const fake = signCheckpoint({ tenantId: TENANT, treeSize: 50, rootHash: 'ab'.repeat(32), lastHash: 'cd'.repeat(32), time: new Date(0) }, generateSigningKey());
    expect(verify(entries, [fake])).toMatchObject({ valid: false, first_invalid_seq: 50, reason: expect.stringContaining('unknown key id') as unknown });
  });

  it('catches an entry moved in from another tenant', () => {
    const { entries } = buildChain(3, key);
    expect(verifyChain(entries, { tenantId: 'tnt_b', keys })).toMatchObject({ valid: false, first_invalid_seq: 1, reason: 'entry belongs to another tenant' });
  });

  it('verifies a range that starts mid-chain from the previous hash', () => {
    const { entries } = buildChain(10, key);
    const result = verifyChain(entries.slice(4, 8), { tenantId: TENANT, keys, fromSeq: 5, prevHash: (entries[3] as SignedEntry).hash });
    expect(result).toMatchObject({ valid: true, checked: 4 });
    expect(verifyChain(entries.slice(4, 8), { tenantId: TENANT, keys, fromSeq: 5, prevHash: GENESIS_HASH })).toMatchObject({ valid: false, first_invalid_seq: 5 });
  });
});
