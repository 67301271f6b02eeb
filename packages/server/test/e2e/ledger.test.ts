import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { verifyBundle } from '../../src/kernel/ledger/index.js';
import { errorOf } from '../support/api-errors.js';
import { startTestPlatform, type TestPlatform } from '../support/test-app.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform.close();
});

describe('ledger end to end', () => {
  it('records the platform\'s own side effects and external events on one verifiable chain', async () => {
    const client = platform.client();
    const receipt = await client.appendLedgerEntry({ body: { kind: 'external.deployed', subject: { task_id: 'task_e2e_a' }, payload: { version: '1.0' } } });
    expect(receipt.seq).toBeGreaterThan(1);
    const all = await client.listLedgerEntries({ query: {} });
    // `aether init` created the first API key through the audited service.
    expect(all.items.map((item) => item.kind)).toContain('auth.key_created');
    const mine = await client.listLedgerEntries({ query: { subject: 'task_id:task_e2e_a' } });
    expect(mine.items).toHaveLength(1);
    expect(mine.items[0]).toMatchObject({ seq: receipt.seq, hash: receipt.hash, actor: { type: 'api_key' } });
    expect(await client.verifyLedger({ body: {} })).toMatchObject({ valid: true, first_invalid_seq: null });
  });

  it('refuses invalid entries with 4xx and appends nothing', async () => {
    const client = platform.client();
    const before = (await client.listLedgerEntries({ query: { limit: 1000 } })).items.length;
    const unknown = await errorOf(client.appendLedgerEntry({ body: { kind: 'nosuch.thing', payload: {} } }));
    expect([unknown.status, unknown.code]).toEqual([400, 'LEDGER_KIND_UNKNOWN']);
    const invalid = await errorOf(client.appendLedgerEntry({ body: { kind: 'NotDotted', payload: {} } }));
    expect([invalid.status, invalid.code]).toEqual([400, 'LEDGER_KIND_INVALID']);
    const large = await errorOf(client.appendLedgerEntry({ body: { kind: 'external.blob', payload: { blob: 'x'.repeat(70_000) } } }));
    expect([large.status, large.code]).toEqual([413, 'LEDGER_PAYLOAD_TOO_LARGE']);
    const otherTenant = await errorOf(client.call({ ...(await import('@aether/protocol')).ledgerRoutes.appendLedgerEntry }, { body: { kind: 'external.x', payload: {}, tenant_id: 'tnt_other' } as never }));
    expect([otherTenant.status, otherTenant.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect((await client.listLedgerEntries({ query: { limit: 1000 } })).items.length).toBe(before);
  });

  it('lets a viewer read but not write', async () => {
    const viewer = await platform.client().createApiKey({ body: { name: 'viewer', role: 'viewer' } });
    const client = platform.client(viewer.secret);
    expect((await client.listLedgerEntries({ query: {} })).items.length).toBeGreaterThan(0);
    expect((await errorOf(client.appendLedgerEntry({ body: { kind: 'external.x', payload: {} } }))).status).toBe(403);
    expect((await errorOf(client.exportLedger({}))).status).toBe(403);
  });

  it('serves proofs, checkpoints, keys and an export bundle that verifies offline', async () => {
    const client = platform.client();
    const last = await client.appendLedgerEntry({ body: { kind: 'external.ping', payload: {} } });
    const proof = await client.getLedgerProof({ params: { seq: last.seq } });
    expect(proof).toMatchObject({ seq: last.seq, tree_size: last.seq });
    const consistency = await client.getLedgerConsistency({ query: { old_size: 1, new_size: last.seq } });
    expect(consistency.new_root).toBe(proof.root_hash);
    const { keys } = await client.listLedgerKeys({});
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', retired_at: null });
    expect((await client.listLedgerCheckpoints({ query: {} })).items).toEqual(expect.any(Array));
    const { bundle } = await client.exportLedger({});
    const result = await verifyBundle(bundle.split('\n'), { trustedKeys: keys });
    expect(result).toMatchObject({ valid: true, checked: last.seq });
  });

  it('replays, simulates, debugs and diffs recorded runs', async () => {
    const client = platform.client();
    for (const [run, output] of [['task_run_a', ['a.ts']], ['task_run_b', ['b.ts']]] as const) {
      await client.appendLedgerEntry({ body: { kind: 'task.started', subject: { task_id: run }, payload: {} } });
      await client.appendLedgerEntry({ body: { kind: 'tool.called', subject: { task_id: run }, payload: { tool: 'search', output } } });
      await client.appendLedgerEntry({ body: { kind: 'task.completed', subject: { task_id: run }, payload: { status: 'succeeded' } } });
    }
    const replay = await client.replayRun({ body: { run_id: 'task_run_a' } });
    expect(replay.steps.map((step) => step.kind)).toEqual(['task.started', 'tool.called', 'task.completed']);
    expect(replay.state).toMatchObject({ status: 'succeeded', tools: { search: 1 } });
    const before = (await client.listLedgerEntries({ query: { limit: 1000 } })).items.length;
    const simulated = await client.simulateRun({ body: { run_id: 'task_run_a', substitutions: [{ tool: 'search', output: [] }] } });
    expect(simulated).toMatchObject({ substituted_steps: [2], side_effects: 0, changed_fields: ['last_output'] });
    expect((await client.listLedgerEntries({ query: { limit: 1000 } })).items.length).toBe(before);
    const debug = await client.debugRun({ body: { run_id: 'task_run_a', breakpoints: { tools: ['search'] } } });
    expect(debug).toMatchObject({ step: 2, breakpoints: [2], current: { tool: 'search' } });
    const diff = await client.diffRuns({ params: { a: 'task_run_a', b: 'task_run_b' } });
    expect(diff.first_divergence).toEqual({ step_a: 2, step_b: 2, reason: 'step tool.called differs in output' });
    const missing = await errorOf(client.replayRun({ body: { run_id: 'task_nope' } }));
    expect([missing.status, missing.code]).toEqual([404, 'NOT_FOUND']);
  });
});
