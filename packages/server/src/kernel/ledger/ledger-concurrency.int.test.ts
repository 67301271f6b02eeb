import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Database } from '../../infra/database/index.js';
import { describeWithService, openTestDatabase } from '../../infra/database/testing/index.js';
import { asTenantId, systemContext } from '../../shared/context/index.js';
import { SystemClock, silentLogger } from '../../shared/ports/index.js';
import { LedgerService, ledgerMigrations } from './index.js';

// One master key per database: the signing key is platform-wide, sealed under it.
const masterKey = randomBytes(32).toString('hex');
const script = fileURLToPath(new URL('./concurrency-writer.fixture.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));

function runWriter(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`writer ${args[6] ?? ''} exited with ${String(code)}: ${stderr}`));
    });
  });
}

describeWithService('postgres', 'LedgerService.append across processes [postgres]', (url) => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase('postgres', ledgerMigrations);
  });
  afterAll(async () => {
    await db.close();
  });

  it('loses no acknowledged entry and keeps the chain valid when a writer is killed with SIGKILL', { timeout: 120_000 }, async () => {
    const tenantId = `tnt_kill${randomBytes(3).toString('hex')}`;
    const acknowledged = new Map<number, string>();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, url, db.schema, tenantId, masterKey, '4', '5000', 'k', 'report'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const [seq, hash] = line.split(' ');
          acknowledged.set(Number(seq), hash ?? '');
        }
        // Mid-write: kill -9 once a good number of appends are acknowledged and more are in flight.
        if (acknowledged.size >= 1500 && !child.killed) child.kill('SIGKILL');
      });
      child.on('error', reject);
      child.on('exit', (_code, signal) => {
        if (signal === 'SIGKILL') resolve();
        else reject(new Error(`writer ended before it was killed (signal ${String(signal)})`));
      });
    });
    const ctx = systemContext(asTenantId(tenantId), 'test');
    const ledger = new LedgerService({ db, masterKey: Buffer.from(masterKey, 'hex'), clock: new SystemClock(), logger: silentLogger });
    const stored = await db.withTenant(ctx.tenantId, async (tx) => new Map((await sql<{ seq: number; hash: string }>`select seq, hash from ledger_entries`.execute(tx)).rows.map((row) => [row.seq, row.hash])));
    expect(acknowledged.size).toBeGreaterThanOrEqual(1500);
    for (const [seq, hash] of acknowledged) expect(stored.get(seq)).toBe(hash);
    const result = await ledger.verify(ctx);
    expect(result).toMatchObject({ valid: true, checked: stored.size });
    // Appending goes on after the crash, on the same chain.
    expect((await ledger.append(ctx, { kind: 'task.created', payload: {} })).seq).toBe(stored.size + 1);
  });

  it('keeps one gapless, fork-free chain with 8 writers in 3 processes appending 10,000 entries', { timeout: 120_000 }, async () => {
    const tenantId = `tnt_conc${randomBytes(3).toString('hex')}`;
    // 3 + 3 + 2 writers; 1250 appends each.
    await Promise.all([
      runWriter([url, db.schema, tenantId, masterKey, '3', '1250', 'p1']),
      runWriter([url, db.schema, tenantId, masterKey, '3', '1250', 'p2']),
      runWriter([url, db.schema, tenantId, masterKey, '2', '1250', 'p3']),
    ]);
    const ctx = systemContext(asTenantId(tenantId), 'test');
    const ledger = new LedgerService({ db, masterKey: Buffer.from(masterKey, 'hex'), clock: new SystemClock(), logger: silentLogger });
    const stats = await db.withTenant(ctx.tenantId, async (tx) => (await sql<{ count: number; max: number; distinct_prev: number; keys: number }>`
        select count(*)::int as count, max(seq)::int as max, count(distinct body::jsonb->>'prev_hash')::int as distinct_prev,
               count(distinct key_id)::int as keys from ledger_entries`.execute(tx)).rows[0]);
    expect(stats).toEqual({ count: 10_000, max: 10_000, distinct_prev: 10_000, keys: 1 });
    const perWriter = await db.withTenant(ctx.tenantId, async (tx) => (await sql<{ writer: string; n: number }>`
        select body::jsonb->'payload'->>'writer' as writer, count(*)::int as n from ledger_entries group by 1 order by 1`.execute(tx)).rows);
    expect(perWriter).toHaveLength(8);
    expect(perWriter.every((row) => row.n === 1250)).toBe(true);
    const result = await ledger.verify(ctx);
    expect(result).toMatchObject({ valid: true, checked: 10_000, first_invalid_seq: null, reason: null });
    // Every 500 entries, plus any the 60 s interval added on a slow machine.
    expect(result.checkpoints_checked).toBeGreaterThanOrEqual(20);
  });
});
