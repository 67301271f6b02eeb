import { createHash, hash } from 'node:crypto';

/**
 * RFC 9162 (Certificate Transparency v2) Merkle trees: leaf = SHA-256(0x00 ‖ data),
 * node = SHA-256(0x01 ‖ left ‖ right); the data of a ledger leaf is the entry's 32-byte hash.
 */
const HASH_BYTES = 32;
// Scratch inputs for one-shot hashing; crypto.hash reads them synchronously, so reuse is safe.
const leafInput = Buffer.alloc(1 + HASH_BYTES, 0x00);
const nodeInput = Buffer.alloc(1 + 2 * HASH_BYTES, 0x01);

export function merkleLeafHash(entryHash: Buffer): Buffer {
  if (entryHash.length !== HASH_BYTES) return createHash('sha256').update(Buffer.of(0x00)).update(entryHash).digest();
  entryHash.copy(leafInput, 1);
  return hash('sha256', leafInput, 'buffer');
}

export function merkleNodeHash(left: Buffer, right: Buffer): Buffer {
  left.copy(nodeInput, 1, 0, HASH_BYTES);
  right.copy(nodeInput, 1 + HASH_BYTES, 0, HASH_BYTES);
  return hash('sha256', nodeInput, 'buffer');
}

/** SHA-256 of the empty string: the root of the empty tree. */
export const EMPTY_ROOT = createHash('sha256').digest();

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The right edge of a tree: the roots of its maximal perfect subtrees, largest first. It has
 * one element per set bit of the tree size, so it is O(log n) and is what the ledger head row
 * stores to know the current root without reading every leaf.
 */
export class MerkleFrontier {
  readonly #nodes: Buffer[];
  #size: number;

  constructor(size = 0, nodes: readonly Buffer[] = []) {
    let bits = 0;
    for (let rest = size; rest > 0; rest = Math.floor(rest / 2)) bits += rest % 2;
    if (bits !== nodes.length) throw new TypeError(`a frontier of size ${String(size)} has ${String(bits)} nodes, got ${String(nodes.length)}`);
    this.#size = size;
    this.#nodes = [...nodes];
  }

  get size(): number {
    return this.#size;
  }

  nodes(): Buffer[] {
    return [...this.#nodes];
  }

  /** Appends a leaf (already leaf-hashed), merging equal-size subtrees like a binary counter. */
  push(leafHash: Buffer): void {
    let node = leafHash;
    let size = this.#size;
    while (size % 2 === 1) {
      const left = this.#nodes.pop();
      if (!left) throw new Error('frontier is inconsistent with its size');
      node = merkleNodeHash(left, node);
      size = Math.floor(size / 2);
    }
    this.#nodes.push(node);
    this.#size += 1;
  }

  root(): Buffer {
    let root: Buffer | undefined;
    for (let index = this.#nodes.length - 1; index >= 0; index -= 1) {
      const node = this.#nodes[index] as Buffer;
      root = root ? merkleNodeHash(node, root) : node;
    }
    return root ?? EMPTY_ROOT;
  }
}

/** One level of memoized perfect-subtree hashes, packed into a growable buffer. */
class HashLevel {
  #buffer = Buffer.alloc(HASH_BYTES * 1024);
  length = 0;

  push(hash: Buffer): void {
    if ((this.length + 1) * HASH_BYTES > this.#buffer.length) {
      const grown = Buffer.alloc(this.#buffer.length * 2);
      this.#buffer.copy(grown);
      this.#buffer = grown;
    }
    hash.copy(this.#buffer, this.length * HASH_BYTES);
    this.length += 1;
  }

  get(index: number): Buffer {
    return this.#buffer.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES);
  }
}

/**
 * An append-only Merkle tree that memoizes every perfect aligned subtree, so the hash of any
 * range the RFC 9162 recursion asks for costs O(log n) and a proof O(log² n), never O(n).
 */
export class MerkleTree {
  readonly #levels: HashLevel[] = [new HashLevel()];

  get size(): number {
    return (this.#levels[0] as HashLevel).length;
  }

  /** Appends the leaf for one entry hash. */
  append(entryHash: Buffer): void {
    this.appendLeafHash(merkleLeafHash(entryHash));
  }

  appendLeafHash(leafHash: Buffer): void {
    let level = 0;
    let node = leafHash;
    for (;;) {
      const current = this.#levels[level] ?? new HashLevel();
      this.#levels[level] = current;
      current.push(node);
      if (current.length % 2 === 1) return;
      node = merkleNodeHash(current.get(current.length - 2), current.get(current.length - 1));
      level += 1;
    }
  }

  leafHash(index: number): Buffer {
    return Buffer.from((this.#levels[0] as HashLevel).get(index));
  }

  /** MTH(D[start:end]), the root of leaves `start` (inclusive) to `end` (exclusive). */
  rangeHash(start: number, end: number): Buffer {
    const n = end - start;
    if (n === 0) return EMPTY_ROOT;
    // A perfect, aligned subtree is memoized at the level of its height.
    if ((n & (n - 1)) === 0 && start % n === 0) {
      const level = Math.log2(n);
      return this.#levels[level]?.get(start / n) ?? this.#missing(start, end);
    }
    const k = largestPowerOfTwoBelow(n);
    return merkleNodeHash(this.rangeHash(start, start + k), this.rangeHash(start + k, end));
  }

  #missing(start: number, end: number): never {
    throw new RangeError(`range [${String(start)}, ${String(end)}) is beyond the tree of size ${String(this.size)}`);
  }

  root(size = this.size): Buffer {
    this.#checkSize(size);
    return this.rangeHash(0, size);
  }

  /** RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves. */
  inclusionProof(index: number, size = this.size): Buffer[] {
    this.#checkSize(size);
    if (index < 0 || index >= size) throw new RangeError(`leaf ${String(index)} is not in a tree of size ${String(size)}`);
    const path: Buffer[] = [];
    let start = 0;
    let end = size;
    let m = index;
    const siblings: Buffer[] = [];
    while (end - start > 1) {
      const k = largestPowerOfTwoBelow(end - start);
      if (m < k) {
        siblings.push(this.rangeHash(start + k, end));
        end = start + k;
      } else {
        siblings.push(this.rangeHash(start, start + k));
        start += k;
        m -= k;
      }
    }
    // The recursion appends the deepest sibling first.
    for (let i = siblings.length - 1; i >= 0; i -= 1) path.push(siblings[i] as Buffer);
    return path;
  }

  /** RFC 9162 §2.1.4.1 consistency proof between the trees of `oldSize` and `newSize` leaves. */
  consistencyProof(oldSize: number, newSize = this.size): Buffer[] {
    this.#checkSize(newSize);
    if (oldSize < 0 || oldSize > newSize) throw new RangeError(`cannot prove ${String(oldSize)} against ${String(newSize)}`);
    if (oldSize === 0 || oldSize === newSize) return [];
    const proof: Buffer[] = [];
    let m = oldSize;
    let start = 0;
    let end = newSize;
    let complete = true;
    const tail: Buffer[] = [];
    while (m !== end - start) {
      const k = largestPowerOfTwoBelow(end - start);
      if (m <= k) {
        tail.push(this.rangeHash(start + k, end));
        end = start + k;
      } else {
        tail.push(this.rangeHash(start, start + k));
        start += k;
        m -= k;
        complete = false;
      }
    }
    if (!complete) proof.push(this.rangeHash(start, end));
    for (let i = tail.length - 1; i >= 0; i -= 1) proof.push(tail[i] as Buffer);
    return proof;
  }

  #checkSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > this.size) {
      throw new RangeError(`tree size ${String(size)} is beyond the tree of size ${String(this.size)}`);
    }
  }
}

/** RFC 9162 §2.1.3.2: true when `proof` shows `leafHash` at `index` in the tree with `root`. */
export function verifyInclusionProof(
  leafHash: Buffer,
  proof: { readonly index: number; readonly treeSize: number; readonly path: readonly Buffer[] },
  root: Buffer,
): boolean {
  if (proof.index < 0 || proof.index >= proof.treeSize) return false;
  let fn = proof.index;
  let sn = proof.treeSize - 1;
  let r = leafHash;
  for (const p of proof.path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = merkleNodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: true when `proof` shows the tree (oldSize, oldRoot) is a prefix of (newSize, newRoot). */
export function verifyConsistencyProof(
  sizes: { readonly oldSize: number; readonly newSize: number },
  roots: { readonly oldRoot: Buffer; readonly newRoot: Buffer },
  proof: readonly Buffer[],
): boolean {
  const { oldSize, newSize } = sizes;
  if (oldSize < 0 || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && roots.oldRoot.equals(roots.newRoot);
  if (oldSize === 0) return proof.length === 0;
  const path = (oldSize & (oldSize - 1)) === 0 ? [roots.oldRoot, ...proof] : [...proof];
  const first = path[0];
  if (!first) return false;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = first;
  let sr = first;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = merkleNodeHash(c, fr);
      sr = merkleNodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = merkleNodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(roots.oldRoot) && sr.equals(roots.newRoot);
}
