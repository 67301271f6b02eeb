import { sql } from 'kysely';

import type { DbTransaction } from '../../infra/database/index.js';
import { MerkleTree } from './merkle.js';

// A tree of 10^6 entries holds about 64 MB of hashes; keep a few tenants, least recently used out.
const MAX_TENANTS = 8;

/**
 * Keeps each recently used tenant's Merkle tree in memory and extends it with entries appended
 * since (by any process), so a proof costs O(log² n) hashes after the first load, not a table scan.
 */
export class ProofCache {
  readonly #trees = new Map<string, MerkleTree>();

  async tree(tx: DbTransaction, tenantId: string): Promise<MerkleTree> {
    let tree = this.#trees.get(tenantId);
    if (tree) {
      this.#trees.delete(tenantId);
    } else {
      tree = new MerkleTree();
      if (this.#trees.size >= MAX_TENANTS) this.#trees.delete(this.#trees.keys().next().value as string);
    }
    this.#trees.set(tenantId, tree);
    for (;;) {
      const rows = await sql<{ seq: number; hash: string }>`select seq, hash from ledger_entries
          where tenant_id = ${tenantId} and seq > ${tree.size} order by seq limit 10000`.execute(tx);
      for (const row of rows.rows) {
        // A gap means the table was tampered with; proofs would be wrong, so stop extending.
        if (row.seq !== tree.size + 1) return tree;
        tree.append(Buffer.from(row.hash, 'hex'));
      }
      if (rows.rows.length < 10000) return tree;
    }
  }
}
