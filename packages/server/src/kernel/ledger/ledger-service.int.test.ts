import { randomBytes } from 'node:crypto';

import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';

import { findTenantTablesWithoutRls, isExpectationFailure, lostToConcurrentWrite } from '../../infra/database/index.js';
import { describeEachDatabase } from '../../infra/database/testing/index.js';
import { asTenantId, systemContext, type TenantContext } from '../../shared/context/index.js';
import { ManualClock, silentLogger } from '../../shared/ports/index.js';
import { merkleLeafHash, verifyConsistencyProof, verifyInclusionProof } from './merkle.js';
import {
  ERASED_VALUE,
  LedgerEntryInvalidError,
  LedgerKindInvalidError,
  LedgerKindUnknownError,
  LedgerPayloadTooLargeError,
  LedgerProofNotFoundError,
  LedgerService,
  LedgerSigningKeyUnavailableError,
  ledgerMigrations,
} from './index.js';

const masterKey = randomBytes(32);

describeEachDatabase('LedgerService', ledgerMigrations, (getDb) => {
  let clock: ManualClock;
  let ledger: LedgerService;
  let ctx: TenantContext;
  let tenantCounter = 0;

  beforeEach(() => {
    clock = new ManualClock();
    ledger = new LedgerService({ db: getDb(), masterKey, clock, logger: silentLogger, options: { checkpointEvery: 4, checkpointIntervalMs: 3_600_000 } });
    tenantCounter += 1;
    ctx = systemContext(asTenantId(`tnt_${randomBytes(4).toString('hex')}${String(tenantCounter)}`), 'test');
  });

  async function appendMany(count: number, context = ctx): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      clock.advance(1000);
      await ledger.append(context, { kind: 'tool.called', subject: { task_id: `task_${String(i % 2)}` }, payload: { tool: i % 3 === 0 ? 'grep' : 'curl', i } });
    }
  }

  async function tamper(statement: string): Promise<void> {
    await getDb().withSystem(async (tx) => {
      await sql.raw(statement.replaceAll('$TENANT', `'${ctx.tenantId}'`)).execute(tx);
    });
  }

  it('puts every tenant table behind row-level security', async () => {
    expect(await findTenantTablesWithoutRls(getDb())).toEqual([]);
  });

  describe('LedgerService.append', () => {
    it('appends a gapless chain, signs checkpoints every N entries, and verifies', async () => {
      await appendMany(10);
      const { items } = await ledger.list(ctx);
      expect(items.map((item) => item.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(items[1]?.prev_hash).toBe(items[0]?.hash);
      expect(items[0]).toMatchObject({ kind: 'tool.called', actor: { type: 'system', id: 'test' }, subject: { task_id: 'task_0' }, payload: { tool: 'grep', i: 0 } });
      expect((await ledger.listCheckpoints(ctx)).map((cp) => cp.tree_size)).toEqual([4, 8]);
      expect(await ledger.verify(ctx)).toEqual({ valid: true, checked: 10, checkpoints_checked: 2, first_invalid_seq: null, reason: null });
    });

    it('group-commits concurrent appends into one gapless chain, each receipt its own seq', async () => {
      const receipts = await Promise.all(Array.from({ length: 120 }, (_, i) => ledger.append(ctx, { kind: 'tool.called', payload: { i } })));
      expect(receipts.map((receipt) => receipt.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      const { items } = await ledger.list(ctx, { limit: 1000 });
      expect(new Map(items.map((item) => [item.seq, item.hash]))).toEqual(new Map(receipts.map((receipt) => [receipt.seq, receipt.hash])));
      expect((await ledger.listCheckpoints(ctx)).map((cp) => cp.tree_size)).toEqual(Array.from({ length: 30 }, (_, i) => (i + 1) * 4));
      expect(await ledger.verify(ctx)).toMatchObject({ valid: true, checked: 120, checkpoints_checked: 30 });
    });

    it('keeps each tenant on its own chain', async () => {
      const other = systemContext(asTenantId(`${ctx.tenantId}x`), 'test');
      await appendMany(3);
      expect((await ledger.append(other, { kind: 'task.created', payload: {} })).seq).toBe(1);
      expect((await ledger.list(other)).items).toHaveLength(1);
      expect(await ledger.verify(other)).toMatchObject({ valid: true, checked: 1 });
    });

    it('commits in the caller transaction and appends nothing when it rolls back', async () => {
      await appendMany(2);
      await expect(getDb().withTenant(ctx.tenantId, async (tx) => {
        await ledger.append(ctx, { kind: 'task.created', payload: {} }, { tx });
        throw new Error('effect failed');
      })).rejects.toThrow('effect failed');
      expect((await ledger.append(ctx, { kind: 'task.created', payload: {} })).seq).toBe(3);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: true, checked: 3 });
    });

    it('appends several entries in order as one batch, in the caller transaction or on their own', async () => {
      await appendMany(1);
      const inTx = await getDb().withTenant(ctx.tenantId, (tx) =>
        ledger.appendAll(ctx, [{ kind: 'model.routed', payload: { n: 1 } }, { kind: 'budget.charged', payload: { n: 2 } }, { kind: 'llm.call', payload: { n: 3 } }], { tx }),
      );
      const alone = await ledger.appendAll(ctx, [{ kind: 'task.created', payload: { n: 4 } }, { kind: 'task.completed', payload: { n: 5 } }]);
      expect([...inTx, ...alone].map((receipt) => receipt.seq)).toEqual([2, 3, 4, 5, 6]);
      const { items } = await ledger.list(ctx);
      expect(items.slice(1).map((item) => [item.kind, item.payload['n']])).toEqual([['model.routed', 1], ['budget.charged', 2], ['llm.call', 3], ['task.created', 4], ['task.completed', 5]]);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: true, checked: 6 });
    });

    it('appends none of a batch when one of its entries is invalid', async () => {
      await appendMany(1);
      await expect(ledger.appendAll(ctx, [{ kind: 'task.created', payload: {} }, { kind: 'Not A Kind', payload: {} }])).rejects.toBeInstanceOf(LedgerKindInvalidError);
      expect((await ledger.list(ctx)).items).toHaveLength(1);
    });

    it('appends inside a caller transaction long after the signing key was loaded (one PGlite connection)', async () => {
      await appendMany(1);
      clock.advance(3_600_000);
      const receipt = await getDb().withTenant(ctx.tenantId, (tx) => ledger.append(ctx, { kind: 'task.created', payload: {} }, { tx }));
      expect(receipt.seq).toBe(2);
    });

    it('signs a checkpoint when the interval has passed, at the next append', async () => {
      await appendMany(1);
      clock.advance(3_600_000);
      await appendMany(1);
      expect((await ledger.listCheckpoints(ctx)).map((cp) => cp.tree_size)).toEqual([2]);
    });

    it.each([
      ['an invalid kind', { kind: 'Tool Called', payload: {} }, LedgerKindInvalidError],
      ['an unknown namespace', { kind: 'tsak.started', payload: {} }, LedgerKindUnknownError],
      ['an oversize payload', { kind: 'tool.called', payload: { blob: 'x'.repeat(70_000) } }, LedgerPayloadTooLargeError],
      ['a bad subject reference', { kind: 'tool.called', subject: { 'Task-Id': 'x' }, payload: {} }, LedgerEntryInvalidError],
      ['a personal field not in the payload', { kind: 'user.updated', payload: {}, personal: { subjectId: 'usr_1', fields: ['email'] } }, LedgerEntryInvalidError],
      ['a payload JSON cannot hold', { kind: 'tool.called', payload: { n: Number.NaN } }, LedgerEntryInvalidError],
    ])('refuses %s with a 4xx error and appends nothing', async (_name, input, errorClass) => {
      await appendMany(1);
      const error: unknown = await ledger.append(ctx, input).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(errorClass);
      expect(['invalid', 'too_large']).toContain((error as LedgerKindInvalidError).kind);
      expect((await ledger.list(ctx)).items).toHaveLength(1);
    });
  });

  describe('LedgerService.prepareAppend (entries written by the caller\'s one-round-trip write)', () => {
    const entry = (i: number) => ({ kind: 'tool.called', payload: { i } });
    const payloads = async () => (await ledger.list(ctx)).items.map((item) => item.payload['i']);
    const refusal = (write: Promise<unknown>) => write.then(() => undefined, (error: unknown) => error);

    it('plans nothing before this process has seen the tenant\'s head, nor entries with personal fields', async () => {
      expect(ledger.prepareAppend(ctx, [entry(1)])).toBeUndefined();
      await ledger.append(ctx, entry(1));
      expect(ledger.prepareAppend(ctx, [{ kind: 'user.created', payload: { email: 'a@example.com' }, personal: { subjectId: 'usr_1', fields: ['email'] } }])).toBeUndefined();
      // Bad input is refused as append refuses it, before anything is planned.
      expect(() => ledger.prepareAppend(ctx, [{ kind: 'Not A Kind', payload: {} }])).toThrow(LedgerKindInvalidError);
    });

    it('chains planned entries onto the head and signs the checkpoints that fall due, once the caller\'s write commits', async () => {
      await appendMany(3);
      const planned = ledger.prepareAppend(ctx, [entry(10), entry(11)]);
      if (!planned) throw new Error('expected a plan on the head this process wrote');
      await getDb().writeInOneRoundTrip(ctx.tenantId, planned.statements);
      expect(planned.committed().map((receipt) => receipt.seq)).toEqual([4, 5]);
      await ledger.append(ctx, entry(12));
      expect(await payloads()).toEqual([0, 1, 2, 10, 11, 12]);
      expect((await ledger.listCheckpoints(ctx)).map((cp) => cp.tree_size)).toEqual([4]);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: true, checked: 6, checkpoints_checked: 1 });
    });

    it('refuses a planned write when another process moved the head first, and keeps nothing of it', async () => {
      await appendMany(2);
      const planned = ledger.prepareAppend(ctx, [entry(10)]);
      if (!planned) throw new Error('expected a plan');
      const otherProcess = new LedgerService({ db: getDb(), masterKey, clock, logger: silentLogger });
      await otherProcess.append(ctx, entry(20));
      expect(lostToConcurrentWrite(await refusal(getDb().writeInOneRoundTrip(ctx.tenantId, planned.statements)))).toBe(true);
      planned.abandoned();
      await ledger.append(ctx, entry(11));
      expect(await payloads()).toEqual([0, 1, 20, 11]);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: true, checked: 4 });
      // Another writer is active: no plans for this tenant until the cool-down has passed.
      expect(ledger.prepareAppend(ctx, [entry(12)])).toBeUndefined();
      clock.advance(1000);
      expect(ledger.prepareAppend(ctx, [entry(12)])).toBeDefined();
    });

    it('refuses a write planned on a head that a rolled-back transaction left behind', async () => {
      await appendMany(1);
      const rolledBack = getDb().withTenant(ctx.tenantId, async (tx) => {
        await ledger.append(ctx, entry(2), { tx });
        throw new Error('the effect failed');
      });
      await expect(rolledBack).rejects.toThrow('the effect failed');
      const planned = ledger.prepareAppend(ctx, [entry(3)]);
      if (!planned) throw new Error('expected a plan');
      expect(isExpectationFailure(await refusal(getDb().writeInOneRoundTrip(ctx.tenantId, planned.statements)))).toBe(true);
      planned.abandoned();
      await ledger.append(ctx, entry(4));
      expect(await payloads()).toEqual([0, 4]);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: true, checked: 2 });
    });

    it('lets only one write at a time plan on the head: a second plan waits for the locked path', async () => {
      await appendMany(1);
      const first = ledger.prepareAppend(ctx, [entry(10)]);
      expect(ledger.prepareAppend(ctx, [entry(11)])).toBeUndefined();
      if (!first) throw new Error('expected a plan');
      await getDb().writeInOneRoundTrip(ctx.tenantId, first.statements);
      first.committed();
      expect(ledger.prepareAppend(ctx, [entry(11)])).toBeDefined();
    });
  });

  describe('LedgerService.checkpointStale', () => {
    it('signs a checkpoint for a tenant that stopped appending, once the interval has passed', async () => {
      await appendMany(2);
      expect(await ledger.listCheckpoints(ctx)).toEqual([]);
      clock.advance(3_600_000);
      expect(await ledger.checkpointStale()).toBeGreaterThanOrEqual(1);
      expect((await ledger.listCheckpoints(ctx)).map((cp) => cp.tree_size)).toEqual([2]);
      expect(await ledger.checkpoint(ctx)).toBeUndefined();
      expect(await ledger.verify(ctx)).toMatchObject({ valid: true, checkpoints_checked: 1 });
    });
  });

  describe('LedgerService.list', () => {
    it('filters by kind, actor, subject and time, and pages with a cursor', async () => {
      const start = clock.now();
      await appendMany(6);
      await ledger.append(ctx, { kind: 'llm.called', actor: { type: 'agent', id: 'agt_9' }, payload: { model: 'm' } });
      expect((await ledger.list(ctx, { kind: 'llm.called' })).items.map((item) => item.seq)).toEqual([7]);
      expect((await ledger.list(ctx, { actor: 'agt_9' })).items.map((item) => item.seq)).toEqual([7]);
      expect((await ledger.list(ctx, { subject: { task_id: 'task_1' } })).items.map((item) => item.seq)).toEqual([2, 4, 6]);
      expect((await ledger.list(ctx, { from: new Date(start.getTime() + 2500), to: new Date(start.getTime() + 4500) })).items.map((item) => item.seq)).toEqual([3, 4]);
      const first = await ledger.list(ctx, { limit: 3 });
      expect(first.next_cursor).toBe(3);
      const second = await ledger.list(ctx, { limit: 3, afterSeq: first.next_cursor ?? 0 });
      expect(second.items.map((item) => item.seq)).toEqual([4, 5, 6]);
      expect((await ledger.list(ctx, { afterSeq: 6 })).next_cursor).toBeNull();
    });
  });

  describe('LedgerService.inclusionProof / consistencyProof', () => {
    it('proves an entry against the latest signed checkpoint, and two tree sizes consistent', async () => {
      await appendMany(10);
      const proof = await ledger.inclusionProof(ctx, 3);
      expect(proof.tree_size).toBe(8);
      expect(proof.checkpoint?.root_hash).toBe(proof.root_hash);
      const entry = (await ledger.list(ctx, { afterSeq: 2, limit: 1 })).items[0];
      const leaf = merkleLeafHash(Buffer.from(entry?.hash ?? '', 'hex'));
      expect(verifyInclusionProof(leaf, { index: 2, treeSize: 8, path: proof.path.map((h) => Buffer.from(h, 'hex')) }, Buffer.from(proof.root_hash, 'hex'))).toBe(true);
      const atHead = await ledger.inclusionProof(ctx, 10);
      expect(atHead).toMatchObject({ tree_size: 10, checkpoint: null });
      const consistency = await ledger.consistencyProof(ctx, 4, 10);
      expect(verifyConsistencyProof({ oldSize: 4, newSize: 10 }, { oldRoot: Buffer.from(consistency.old_root, 'hex'), newRoot: Buffer.from(consistency.new_root, 'hex') }, consistency.path.map((h) => Buffer.from(h, 'hex')))).toBe(true);
      const checkpoints = await ledger.listCheckpoints(ctx);
      expect(consistency.old_root).toBe(checkpoints[0]?.root_hash);
    });

    it('refuses an entry or size the ledger does not have', async () => {
      await appendMany(3);
      await expect(ledger.inclusionProof(ctx, 9)).rejects.toBeInstanceOf(LedgerProofNotFoundError);
      await expect(ledger.consistencyProof(ctx, 2, 9)).rejects.toBeInstanceOf(LedgerProofNotFoundError);
    });
  });

  describe('LedgerService.verify (tampering in the database)', () => {
    beforeEach(async () => {
      await appendMany(10);
    });

    it('catches a payload byte changed in place', async () => {
      await tamper(`update ledger_entries set body = replace(body, '"i":4', '"i":5') where tenant_id = $TENANT and seq = 5`);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: false, first_invalid_seq: 5, reason: expect.stringContaining('hash does not match') as unknown });
    });

    it('catches a row deleted in the middle', async () => {
      await tamper(`delete from ledger_entries where tenant_id = $TENANT and seq = 6`);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: false, first_invalid_seq: 6, reason: expect.stringContaining('missing') as unknown });
    });

    it('catches the newest rows deleted, even with the head row rewound', async () => {
      await tamper(`delete from ledger_entries where tenant_id = $TENANT and seq >= 7;
        update ledger_heads set seq = 6, hash = (select hash from ledger_entries where tenant_id = $TENANT and seq = 6) where tenant_id = $TENANT`);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: false, first_invalid_seq: 7, reason: expect.stringContaining('newest entries deleted') as unknown });
    });

    it('catches reordered rows', async () => {
      await tamper(`update ledger_entries set seq = -seq where tenant_id = $TENANT and seq in (3, 4);
        update ledger_entries set seq = 4 where tenant_id = $TENANT and seq = -3;
        update ledger_entries set seq = 3 where tenant_id = $TENANT and seq = -4`);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: false, first_invalid_seq: 3 });
    });

    it('catches a swapped signature', async () => {
      await tamper(`update ledger_entries set signature = (select signature from ledger_entries where tenant_id = $TENANT and seq = 2) where tenant_id = $TENANT and seq = 9`);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: false, first_invalid_seq: 9, reason: 'signature is invalid' });
    });

    it('catches an unknown key id', async () => {
      await tamper(`update ledger_entries set key_id = 'not-a-key' where tenant_id = $TENANT and seq = 2`);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: false, first_invalid_seq: 2 });
    });

    it('catches a forged checkpoint', async () => {
      await tamper(`update ledger_checkpoints set body = replace(body, root_hash, repeat('ab', 32)) where tenant_id = $TENANT and tree_size = 4`);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: false, first_invalid_seq: 4, reason: expect.stringContaining('checkpoint at tree size 4') as unknown });
    });

    it('verifies a range and reports an entry missing inside it', async () => {
      expect(await ledger.verify(ctx, { fromSeq: 3, toSeq: 7 })).toMatchObject({ valid: true, checked: 5 });
      await tamper(`delete from ledger_entries where tenant_id = $TENANT and seq = 7`);
      expect(await ledger.verify(ctx, { fromSeq: 3, toSeq: 7 })).toMatchObject({ valid: false, first_invalid_seq: 7 });
    });
  });

  describe('LedgerService.rotateKey / publicKeys', () => {
    it('signs with the new key after rotation while every old entry still verifies', async () => {
      await appendMany(3);
      const before = await ledger.publicKeys();
      const newKeyId = await ledger.rotateKey();
      await appendMany(3);
      const keys = await ledger.publicKeys();
      expect(keys.map((key) => key.jwk.kid)).toEqual(expect.arrayContaining([...before.map((key) => key.jwk.kid), newKeyId]));
      expect(keys.find((key) => key.jwk.kid === newKeyId)?.retired_at).toBeNull();
      expect((await ledger.list(ctx, { afterSeq: 3 })).items.every((item) => item.key_id === newKeyId)).toBe(true);
      expect(await ledger.verify(ctx)).toMatchObject({ valid: true, checked: 6 });
    });

    it('refuses to sign when the master key cannot open the signing key', async () => {
      await ledger.init();
      const wrong = new LedgerService({ db: getDb(), masterKey: randomBytes(32), clock, logger: silentLogger });
      await expect(wrong.append(ctx, { kind: 'task.created', payload: {} })).rejects.toBeInstanceOf(LedgerSigningKeyUnavailableError);
    });
  });

  describe('LedgerService.eraseSubject', () => {
    it('shreds personal fields while the chain still verifies', async () => {
      await ledger.append(ctx, { kind: 'user.updated', payload: { email: 'ada@example.com', plan: 'pro' }, personal: { subjectId: 'usr_ada', fields: ['email'] } });
      await ledger.append(ctx, { kind: 'user.updated', payload: { email: 'bob@example.com' }, personal: { subjectId: 'usr_bob', fields: ['email'] } });
      const stored = await getDb().withSystem(async (tx) => (await sql<{ body: string }>`select body from ledger_entries where tenant_id = ${ctx.tenantId} and seq = 1`.execute(tx)).rows[0]?.body);
      expect(stored).not.toContain('ada@example.com');
      expect((await ledger.list(ctx)).items[0]?.payload).toEqual({ email: 'ada@example.com', plan: 'pro' });
      const { erased } = await ledger.eraseSubject(ctx, 'usr_ada');
      expect(erased).toBe(true);
      const items = (await ledger.list(ctx)).items;
      expect(items[0]).toMatchObject({ payload: { email: ERASED_VALUE, plan: 'pro' }, redacted: true });
      expect(items[1]).toMatchObject({ payload: { email: 'bob@example.com' }, redacted: false });
      expect(items[2]).toMatchObject({ kind: 'compliance.subject_erased', payload: { subject_id: 'usr_ada' } });
      expect(await ledger.verify(ctx)).toMatchObject({ valid: true, checked: 3 });
    });
  });
});
