import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CliContext } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/program.js';
import { startTestPlatform, type TestPlatform } from '../support/test-app.js';

let platform: TestPlatform;
let dir: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  dir = await mkdtemp(join(tmpdir(), 'ledger-cli-'));
});
afterAll(async () => {
  await platform.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const context: CliContext = {
    io: { out: (text) => out.push(text), err: (text) => err.push(text) },
    settings: { home: dir, defaultUrl: platform.url, url: platform.url, apiKey: platform.ownerKey, profile: 'default' },
    launcher: {
      init: () => Promise.reject(new Error('not used')),
      serve: () => Promise.reject(new Error('not used')),
      doctor: () => Promise.reject(new Error('not used')),
    },
    fetch: undefined,
  };
  const code = await runCli(context, 'test', argv);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('aether ledger / aether task replay', () => {
  it('lists, proves, verifies, exports and verifies the export offline with pinned keys', async () => {
    const client = platform.client();
    await client.appendLedgerEntry({ body: { kind: 'task.started', subject: { task_id: 'task_cli' }, payload: {} } });
    await client.appendLedgerEntry({ body: { kind: 'tool.called', subject: { task_id: 'task_cli' }, payload: { tool: 'grep', output: 'x' } } });
    const list = await cli('ledger', 'list', '--subject', 'task_id:task_cli');
    expect(list.code).toBe(0);
    expect(list.out).toContain('tool.called');
    const listed = JSON.parse((await cli('--format', 'json', 'ledger', 'list', '--kind', 'tool.called')).out) as { seq: number }[];
    expect(listed).toHaveLength(1);
    const proof = JSON.parse((await cli('--format', 'json', 'ledger', 'proof', String(listed[0]?.seq))).out) as { seq: number };
    expect(proof.seq).toBe(listed[0]?.seq);
    expect((await cli('--format', 'json', 'ledger', 'verify')).out).toContain('"valid": true');
    const bundle = join(dir, 'bundle.jsonl');
    expect((await cli('ledger', 'export', '--out', bundle)).code).toBe(0);
    await writeFile(join(dir, 'keys.json'), (await cli('--format', 'json', 'ledger', 'keys')).out);
    const offline = await cli('--format', 'json', 'ledger', 'verify', '--bundle', bundle, '--keys', join(dir, 'keys.json'));
    expect([offline.code, offline.out]).toEqual([0, expect.stringContaining('"valid": true')]);
    const tampered = join(dir, 'tampered.jsonl');
    await writeFile(tampered, (await readFile(bundle, 'utf8')).replace('\\"tool\\":\\"grep\\"', '\\"tool\\":\\"sed\\"'));
    const bad = await cli('ledger', 'verify', '--bundle', tampered);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('NOT valid');
  });

  it('replays a task and diffs two runs', async () => {
    const client = platform.client();
    await client.appendLedgerEntry({ body: { kind: 'tool.called', subject: { task_id: 'task_cli_b' }, payload: { tool: 'grep', output: 'y' } } });
    const replay = await cli('task', 'replay', 'task_cli');
    expect(replay.code).toBe(0);
    expect(replay.out).toContain('task.started');
    const diff = await cli('ledger', 'diff', 'task_cli', 'task_cli_b');
    expect(diff.out).toContain('first divergence');
    const missing = await cli('task', 'replay', 'task_none');
    expect([missing.code, missing.err]).toEqual([1, expect.stringContaining('NOT_FOUND')]);
  });
});
