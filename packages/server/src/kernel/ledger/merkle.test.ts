import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
  EMPTY_ROOT,
  MerkleFrontier,
  MerkleTree,
  merkleLeafHash,
  merkleNodeHash,
  verifyConsistencyProof,
  verifyInclusionProof,
} from './merkle.js';

const entryHash = (i: number): Buffer => createHash('sha256').update(`entry-${String(i)}`).digest();

/** MTH straight from the RFC 9162 definition, with no memoization: the reference. */
function referenceRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return merkleLeafHash(leaves[0] as Buffer);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return merkleNodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

function buildTree(n: number): { tree: MerkleTree; hashes: Buffer[] } {
  const tree = new MerkleTree();
  const hashes: Buffer[] = [];
  for (let i = 0; i < n; i += 1) {
    hashes.push(entryHash(i));
    tree.append(entryHash(i));
  }
  return { tree, hashes };
}

describe('MerkleTree.root', () => {
  it('matches the RFC 9162 definition for every size from 0 to 70', () => {
    const { tree, hashes } = buildTree(70);
    for (let n = 0; n <= 70; n += 1) expect(tree.root(n).toString('hex')).toBe(referenceRoot(hashes.slice(0, n)).toString('hex'));
  });

  it('is the SHA-256 of the empty string for the empty tree', () => {
    expect(new MerkleTree().root().equals(EMPTY_ROOT)).toBe(true);
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('refuses a size beyond the tree', () => {
    expect(() => buildTree(3).tree.root(4)).toThrow(RangeError);
  });
});

describe('MerkleFrontier', () => {
  it('gives the same root as the full tree at every size, in O(log n) nodes', () => {
    const { hashes } = buildTree(100);
    const frontier = new MerkleFrontier();
    for (let n = 1; n <= 100; n += 1) {
      frontier.push(merkleLeafHash(hashes[n - 1] as Buffer));
      expect(frontier.root().equals(referenceRoot(hashes.slice(0, n)))).toBe(true);
    }
    expect(frontier.nodes()).toHaveLength(3); // 100 = 0b1100100
    const restored = new MerkleFrontier(100, frontier.nodes());
    expect(restored.root().equals(frontier.root())).toBe(true);
  });

  it('refuses a node list that does not fit its size', () => {
    expect(() => new MerkleFrontier(3, [EMPTY_ROOT])).toThrow(TypeError);
  });
});

describe('MerkleTree.inclusionProof', () => {
  it('proves every leaf in every tree size up to 33, and each proof verifies', () => {
    const { tree, hashes } = buildTree(33);
    for (let n = 1; n <= 33; n += 1) {
      const root = referenceRoot(hashes.slice(0, n));
      for (let i = 0; i < n; i += 1) {
        const path = tree.inclusionProof(i, n);
        expect(verifyInclusionProof(merkleLeafHash(hashes[i] as Buffer), { index: i, treeSize: n, path }, root)).toBe(true);
      }
    }
  });

  it('fails to verify for another leaf, another index, an altered path or a wrong root', () => {
    const { tree, hashes } = buildTree(21);
    const root = tree.root();
    const path = tree.inclusionProof(6);
    const leaf = merkleLeafHash(hashes[6] as Buffer);
    expect(verifyInclusionProof(merkleLeafHash(hashes[7] as Buffer), { index: 6, treeSize: 21, path }, root)).toBe(false);
    expect(verifyInclusionProof(leaf, { index: 7, treeSize: 21, path }, root)).toBe(false);
    expect(verifyInclusionProof(leaf, { index: 6, treeSize: 8, path }, root)).toBe(false);
    const altered = path.map((node) => Buffer.from(node));
    (altered[1] as Buffer)[0] = ((altered[1] as Buffer)[0] ?? 0) ^ 1;
    expect(verifyInclusionProof(leaf, { index: 6, treeSize: 21, path: altered }, root)).toBe(false);
    expect(verifyInclusionProof(leaf, { index: 6, treeSize: 21, path: path.slice(1) }, root)).toBe(false);
    expect(verifyInclusionProof(leaf, { index: 6, treeSize: 21, path }, tree.root(20))).toBe(false);
  });

  it('refuses an index outside the tree', () => {
    expect(() => buildTree(4).tree.inclusionProof(4)).toThrow(RangeError);
  });
});

describe('MerkleTree.consistencyProof', () => {
  it('proves every pair of sizes up to 33, and each proof verifies', () => {
    const { tree, hashes } = buildTree(33);
    for (let n = 1; n <= 33; n += 1) {
      for (let m = 1; m <= n; m += 1) {
        const proof = tree.consistencyProof(m, n);
        const roots = { oldRoot: referenceRoot(hashes.slice(0, m)), newRoot: referenceRoot(hashes.slice(0, n)) };
        expect(verifyConsistencyProof({ oldSize: m, newSize: n }, roots, proof)).toBe(true);
      }
    }
  });

  it('fails for a forked history, an altered proof or swapped sizes', () => {
    const { tree } = buildTree(20);
    const forked = buildTree(13).tree;
    forked.append(entryHash(999));
    const proof = tree.consistencyProof(7, 20);
    const roots = { oldRoot: tree.root(7), newRoot: tree.root(20) };
    expect(verifyConsistencyProof({ oldSize: 7, newSize: 20 }, roots, proof)).toBe(true);
    expect(verifyConsistencyProof({ oldSize: 14, newSize: 20 }, { oldRoot: forked.root(14), newRoot: tree.root(20) }, tree.consistencyProof(14, 20))).toBe(false);
    const altered = proof.map((node) => Buffer.from(node));
    (altered[0] as Buffer)[3] = ((altered[0] as Buffer)[3] ?? 0) ^ 1;
    expect(verifyConsistencyProof({ oldSize: 7, newSize: 20 }, roots, altered)).toBe(false);
    expect(verifyConsistencyProof({ oldSize: 20, newSize: 7 }, roots, proof)).toBe(false);
    expect(verifyConsistencyProof({ oldSize: 7, newSize: 20 }, roots, [...proof, EMPTY_ROOT])).toBe(false);
  });

  it('needs no proof between equal sizes', () => {
    const { tree } = buildTree(5);
    expect(tree.consistencyProof(5, 5)).toEqual([]);
    expect(verifyConsistencyProof({ oldSize: 5, newSize: 5 }, { oldRoot: tree.root(), newRoot: tree.root() }, [])).toBe(true);
  });
});
