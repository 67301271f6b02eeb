import { hash, randomBytes, verify } from 'node:crypto';

import { sql } from 'kysely';

import { migrate, openDatabase } from '../packages/server/src/infra/database/index.js';
import { asTenantId, systemContext } from '../packages/server/src/shared/context/index.js';
import { canonicalJson } from '../packages/server/src/shared/canonical-json/index.js';
import { SystemClock, silentLogger } from '../packages/server/src/shared/ports/index.js';
import {
  ENTRY_DOMAIN,
  GENESIS_HASH,
  LedgerKeyRing,
  LedgerService,
  MerkleFrontier,
  MerkleTree,
  entryHashBytes,
  generateSigningKey,
  ledgerMigrations,
  merkleLeafHash,
  merkleNodeHash,
  signCheckpoint,
  signEntry,
  toPublicJwk,
  verifyChain,
  verifyChainParallel,
  verifySignaturesParallel,
  type SignedCheckpoint,
  type SignedEntry,
} from '../packages/server/src/kernel/ledger/index.js';
import { percentile, timeAtRate, type BenchFigure, type BenchSuite } from './harness.js';

type Record_ = (figure: BenchFigure) => void;

const DATABASE_URL = process.env['AETHER_BENCH_DATABASE_URL'] ?? process.env['AETHER_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const APPENDS = 5000;
const RATE_PER_SECOND = 1000;
const VERIFY_ENTRIES = 1_000_000;
const SIGNATURES = 40_000;
const PROOFS = 2000;

async function appendFigures(record: Record_): Promise<void> {
  const schema = `bench_ledger_${randomBytes(4).toString('hex')}`;
  const db = await openDatabase({ engine: 'postgres', url: DATABASE_URL, schema, poolSize: 16 });
  try {
    await migrate(db, ledgerMigrations);
    await sql.raw(`create table bench_plain (like ledger_entries including all)`).execute(db.kysely);
    const ledger = new LedgerService({ db, masterKey: randomBytes(32), clock: new SystemClock(), logger: silentLogger });
    const ctx = systemContext(asTenantId('tnt_bench'), 'bench');
    const entry = (index: number) => ({ kind: 'tool.called', subject: { task_id: 'task_bench' }, payload: { tool: 'search', index, output: 'x'.repeat(200) } });
    for (let index = 0; index < 300; index += 1) await ledger.append(ctx, entry(index));
    // The same row as the ledger writes, inserted alone: what durability costs without the chain.
    const sample = (await sql<{ body: string; hash: string; signature: string; key_id: string }>`select body, hash, signature, key_id from ledger_entries limit 1`.execute(db.kysely)).rows[0];
    if (!sample) throw new Error('no sample row');
    for (let index = 0; index < 300; index += 1) {
      await sql`insert into bench_plain (tenant_id, seq, recorded_at, kind, actor_type, actor_id, subject, body, hash, key_id, signature)
          values ('tnt_bench', ${-index - 1}, now(), 'tool.called', 'system', 'bench', '{"task_id":"task_bench"}', ${sample.body}, ${sample.hash}, ${sample.key_id}, ${sample.signature})`.execute(db.kysely);
    }
    const plain = await timeAtRate(APPENDS, RATE_PER_SECOND, (index) =>
      sql`insert into bench_plain (tenant_id, seq, recorded_at, kind, actor_type, actor_id, subject, body, hash, key_id, signature)
          values ('tnt_bench', ${index + 1}, now(), 'tool.called', 'system', 'bench', '{"task_id":"task_bench"}', ${sample.body}, ${sample.hash}, ${sample.key_id}, ${sample.signature})`.execute(db.kysely),
    );
    const appends = await timeAtRate(APPENDS, RATE_PER_SECOND, (index) => ledger.append(ctx, entry(index)));
    const p50 = percentile(appends.latencies, 50);
    const p99 = percentile(appends.latencies, 99);
    record({ name: `append p50 at ${String(Math.round(appends.rate))}/s (${String(APPENDS)} appends, one tenant, PostgreSQL)`, value: p50, unit: 'ms', baselineName: 'plain INSERT of the same row p50', baseline: percentile(plain.latencies, 50), goal: '<= 2 ms', met: p50 <= 2 });
    record({ name: `append p99 at ${String(Math.round(appends.rate))}/s`, value: p99, unit: 'ms', baselineName: 'plain INSERT of the same row p99', baseline: percentile(plain.latencies, 99), goal: '<= 15 ms (spec SLA < 50 ms)', met: p99 <= 15 });
    const check = await ledger.verify(ctx);
    if (!check.valid) throw new Error(`bench chain does not verify: ${String(check.reason)}`);
  } finally {
    await sql.raw(`drop schema if exists ${schema} cascade`).execute(db.kysely).catch(() => undefined);
    await db.close();
  }
}

interface Chain {
  readonly entries: SignedEntry[];
  readonly checkpoints: SignedCheckpoint[];
  readonly keys: LedgerKeyRing;
}

/** A chain of `count` entries; only the first `signed` carry real signatures (the rest are not checked). */
function buildChain(count: number, signed: number): Chain {
  const key = generateSigningKey();
  const entries: SignedEntry[] = [];
  const checkpoints: SignedCheckpoint[] = [];
  const frontier = new MerkleFrontier();
  const placeholder = Buffer.alloc(64).toString('base64');
  let prevHash = GENESIS_HASH;
  const time = new Date('2030-01-01T00:00:00Z');
  for (let seq = 1; seq <= count; seq += 1) {
    let entry: SignedEntry;
    const fields = { tenantId: 'tnt_bench', seq, time, kind: 'tool.called', actor: { type: 'agent', id: 'agt_1' }, subject: { task_id: 'task_bench' }, payload: { tool: 'search', n: seq }, personal: null, prevHash };
    if (seq <= signed) {
      entry = signEntry(fields, key);
    } else {
      const body = canonicalJson({ v: 1, tenant_id: fields.tenantId, seq, time: time.toISOString(), kind: fields.kind, actor: fields.actor, subject: fields.subject, payload: fields.payload, personal: null, prev_hash: prevHash, key_id: key.keyId });
      entry = { seq, body, hash: entryHashBytes(body).toString('hex'), key_id: key.keyId, signature: placeholder };
    }
    entries.push(entry);
    prevHash = entry.hash;
    frontier.push(merkleLeafHash(Buffer.from(entry.hash, 'hex')));
    if (seq % 1000 === 0) checkpoints.push(signCheckpoint({ tenantId: 'tnt_bench', treeSize: seq, rootHash: frontier.root().toString('hex'), lastHash: entry.hash, time }, key));
  }
  return { entries, checkpoints, keys: new LedgerKeyRing([toPublicJwk(key.publicKey)]) };
}

async function verifyFigures(record: Record_, chain: Chain): Promise<void> {
  const n = chain.entries.length;
  // Floor: the SHA-256 work verification cannot avoid: every entry hash, every leaf, every node.
  const floorStart = performance.now();
  const leaves: Buffer[] = new Array<Buffer>(n);
  for (let i = 0; i < n; i += 1) {
    const entryHash = hash('sha256', ENTRY_DOMAIN + (chain.entries[i] as SignedEntry).body, 'buffer');
    leaves[i] = hash('sha256', Buffer.concat([Buffer.of(0), entryHash]), 'buffer');
  }
  for (let width = n; width > 1; width = Math.ceil(width / 2)) {
    for (let i = 0; i + 1 < width; i += 2) leaves[i / 2] = merkleNodeHash(leaves[i] as Buffer, leaves[i + 1] as Buffer);
    if (width % 2 === 1) leaves[(width - 1) / 2] = leaves[width - 1] as Buffer;
  }
  const floorSeconds = (performance.now() - floorStart) / 1000;
  const start = performance.now();
  const result = verifyChain(chain.entries, { tenantId: 'tnt_bench', keys: chain.keys, checkpoints: chain.checkpoints, signatures: false });
  const seconds = (performance.now() - start) / 1000;
  if (!result.valid) throw new Error(`bench chain invalid: ${String(result.reason)}`);
  const what = `${n.toLocaleString('en')} entries (hash chain + Merkle roots + ${String(chain.checkpoints.length)} checkpoint signatures)`;
  const floorName = 'raw node:crypto one-shot SHA-256 of the same bytes on one core (entry, leaf and node hashes)';
  record({ name: `verify ${what}, one thread`, value: seconds, unit: 's', baselineName: floorName, baseline: floorSeconds, goal: '<= 5 s', met: seconds <= 5 });
  const parallelStart = performance.now();
  const parallel = await verifyChainParallel(chain.entries, { tenantId: 'tnt_bench', keys: chain.keys, checkpoints: chain.checkpoints, threads: 2 });
  const parallelSeconds = (performance.now() - parallelStart) / 1000;
  if (!parallel.valid) throw new Error(`bench chain invalid in parallel: ${String(parallel.reason)}`);
  record({ name: `verify ${what}, 2 worker threads + main`, value: parallelSeconds, unit: 's', baselineName: floorName, baseline: floorSeconds, goal: '<= 5 s', met: parallelSeconds <= 5 });
}

async function signatureFigures(record: Record_, chain: Chain): Promise<void> {
  const signed = chain.entries.slice(0, SIGNATURES);
  const key = chain.keys.get(signed[0]?.key_id ?? '');
  if (!key) throw new Error('no key');
  const hashes = signed.map((entry) => Buffer.from(entry.hash, 'hex'));
  const signatures = signed.map((entry) => Buffer.from(entry.signature, 'base64'));
  const floorStart = performance.now();
  for (let i = 0; i < signed.length; i += 1) {
    if (!verify(null, hashes[i] as Buffer, key, signatures[i] as Buffer)) throw new Error('raw verify failed');
  }
  const oneCore = (performance.now() - floorStart) / 1000;
  const start = performance.now();
  const result = await verifySignaturesParallel(signed, chain.keys, 2);
  const parallel = (performance.now() - start) / 1000;
  if (!result.valid) throw new Error('parallel verify failed');
  const twoCoreFloor = oneCore / 2;
  record({ name: `verify ${SIGNATURES.toLocaleString('en')} entry signatures on 2 worker threads`, value: parallel, unit: 's', baselineName: 'raw Ed25519 verify floor on 2 cores (one-core loop / 2)', baseline: twoCoreFloor, goal: 'ratio <= 1.2', met: parallel / twoCoreFloor <= 1.2 });
  const scale = 1_000_000 / SIGNATURES;
  record({ name: 'EXTRAPOLATED (x25, not measured): 1,000,000 entry signatures on 2 threads', value: parallel * scale, unit: 's', baselineName: 'EXTRAPOLATED raw 2-core floor', baseline: twoCoreFloor * scale });
}

function proofFigures(record: Record_, chain: Chain): void {
  const tree = new MerkleTree();
  for (const entry of chain.entries) tree.append(Buffer.from(entry.hash, 'hex'));
  const n = tree.size;
  const nodeFloor = (() => {
    const a = randomBytes(32);
    const start = performance.now();
    let x: Buffer = a;
    const depth = Math.ceil(Math.log2(n));
    for (let i = 0; i < 1000; i += 1) for (let d = 0; d < depth; d += 1) x = merkleNodeHash(x, a);
    return (performance.now() - start) / 1000;
  })();
  const inclusion: number[] = [];
  const consistency: number[] = [];
  for (let i = 0; i < PROOFS; i += 1) {
    const index = Math.floor(Math.random() * n);
    let start = performance.now();
    tree.inclusionProof(index, n);
    inclusion.push(performance.now() - start);
    const oldSize = 1 + Math.floor(Math.random() * (n - 1));
    start = performance.now();
    tree.consistencyProof(oldSize, n);
    consistency.push(performance.now() - start);
  }
  const label = `${n.toLocaleString('en')} leaves`;
  const floorName = `${String(Math.ceil(Math.log2(n)))} raw SHA-256 node hashes (one root-to-leaf path)`;
  record({ name: `inclusion proof p99 at ${label}`, value: percentile(inclusion, 99), unit: 'ms', baselineName: floorName, baseline: nodeFloor, goal: '<= 1 ms', met: percentile(inclusion, 99) <= 1 });
  record({ name: `consistency proof p99 at ${label}`, value: percentile(consistency, 99), unit: 'ms', baselineName: floorName, baseline: nodeFloor, goal: '<= 1 ms', met: percentile(consistency, 99) <= 1 });
}

export const suite: BenchSuite = {
  name: 'ledger',
  requires: ['postgres'],
  async run(record) {
    await appendFigures(record);
    const chain = buildChain(VERIFY_ENTRIES, SIGNATURES);
    await verifyFigures(record, chain);
    await signatureFigures(record, chain);
    proofFigures(record, chain);
  },
};
