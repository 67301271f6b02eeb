import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLauncher, loadConfig } from '../../src/app/index.js';
import { runCli, type CliContext, type PlatformLauncher } from '../../src/cli/index.js';
import { startTestPlatform, type TestPlatform } from '../support/test-app.js';

interface Captured {
  code: number;
  out: string;
  err: string;
}

function cliContext(home: string, launcher: PlatformLauncher, url?: string): { context: CliContext; output: { out: string[]; err: string[] } } {
  const output = { out: [] as string[], err: [] as string[] };
  return {
    output,
    context: {
      io: { out: (text) => output.out.push(text), err: (text) => output.err.push(text) },
      settings: { home, defaultUrl: url ?? 'http://127.0.0.1:1', url, apiKey: undefined, profile: 'default' },
      launcher,
      fetch: undefined,
    },
  };
}

const unusedLauncher: PlatformLauncher = {
  init: () => Promise.reject(new Error('not in this test')),
  serve: () => Promise.reject(new Error('not in this test')),
  doctor: () => Promise.resolve([]),
};

let platform: TestPlatform;
let home: string;

async function aether(args: string[], launcher: PlatformLauncher = unusedLauncher): Promise<Captured> {
  const { context, output } = cliContext(home, launcher, platform.url);
  const code = await runCli(context, '0.0.0-test', args);
  return { code, out: output.out.join('\n'), err: output.err.join('\n') };
}

beforeAll(async () => {
  platform = await startTestPlatform();
  home = await mkdtemp(join(tmpdir(), 'aether-cli-'));
});
afterAll(async () => {
  await platform.close();
  await rm(home, { recursive: true, force: true });
});

describe('aether CLI against a server', () => {
  it('shows status as a table and as JSON', async () => {
    const table = await aether(['status', '--api-key', platform.ownerKey]);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/database\s+pglite/);
    const json = await aether(['status', '--format', 'json', '--api-key', platform.ownerKey]);
    expect(JSON.parse(json.out)).toMatchObject({ database: 'pglite', redis: false });
  });

  it('creates, lists and revokes keys, printing the secret once', async () => {
    const created = await aether(['key', 'create', '--name', 'cli-made', '--role', 'viewer', '--format', 'json', '--api-key', platform.ownerKey]);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.out) as { id: string; secret: string };
    expect(key.secret).toMatch(/^ak_/);
    const listed = await aether(['key', 'list', '--api-key', platform.ownerKey]);
    expect(listed.out).toContain(key.id);
    expect(listed.out).not.toContain(key.secret);
    expect((await aether(['key', 'revoke', key.id, '--api-key', platform.ownerKey])).code).toBe(0);
    const refused = await aether(['status', '--api-key', key.secret]);
    expect(refused).toMatchObject({ code: 1, err: expect.stringContaining('API_KEY_REVOKED') as unknown });
  });

  it('saves a profile with login and uses it afterwards', async () => {
    const login = await aether(['login', '--key', platform.ownerKey, '--server', platform.url]);
    expect(login.out).toContain('Logged in');
    expect((await stat(join(home, 'profiles.json'))).mode & 0o777).toBe(0o600);
    expect((await aether(['key', 'list'])).code).toBe(0);
  });

  it('creates tenants with the operator key and refuses a tenant key for it', async () => {
    const created = await aether(['tenant', 'create', '--slug', 'cli-tenant', '--format', 'json', '--api-key', platform.operatorKey]);
    expect(JSON.parse(created.out)).toMatchObject({ slug: 'cli-tenant', name: 'cli-tenant' });
    const refused = await aether(['tenant', 'create', '--slug', 'nope', '--api-key', platform.ownerKey]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('OPERATOR_ONLY');
  });

  it('answers bad usage with exit code 2 and a clear message', async () => {
    const badRole = await aether(['key', 'create', '--name', 'x', '--role', 'superuser', '--api-key', platform.ownerKey]);
    expect(badRole).toMatchObject({ code: 2, err: expect.stringContaining('--role must be one of') as unknown });
    const badFormat = await aether(['status', '--format', 'yaml', '--api-key', platform.ownerKey]);
    expect(badFormat.code).toBe(2);
    expect((await aether(['no-such-command'])).code).toBe(2);
  });

  it('says plainly when no server answers', async () => {
    const { context, output } = cliContext(home, unusedLauncher, 'http://127.0.0.1:9');
    const code = await runCli(context, '0', ['status', '--api-key', platform.ownerKey]);
    expect(code).toBe(1);
    expect(output.err.join('\n')).toContain('cannot reach the server');
  });
});

describe('aether init and doctor on a fresh home', () => {
  it('initialises once, prints the key as JSON, saves the operator key 0600, and is idempotent', async () => {
    const freshHome = await mkdtemp(join(tmpdir(), 'aether-init-'));
    try {
      const config = loadConfig({ AETHER_HOME: freshHome, AETHER_LOG_LEVEL: 'silent' });
      const launcher = createLauncher(config, () => Promise.resolve('test'));
      const { context, output } = cliContext(freshHome, launcher);
      expect(await runCli(context, '0', ['init', '--json'])).toBe(0);
      const first = JSON.parse(output.out.join('')) as { tenant_id: string; api_key: string };
      expect(first.api_key).toMatch(/^ak_/);
      expect((await stat(join(freshHome, 'operator.key'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(freshHome, 'master.key'))).mode & 0o777).toBe(0o600);
      output.out.length = 0;
      expect(await runCli(context, '0', ['init', '--json'])).toBe(0);
      expect(JSON.parse(output.out.join(''))).toEqual({ tenant_id: first.tenant_id, api_key: null });
      output.out.length = 0;
      expect(await runCli(context, '0', ['doctor'])).toBe(0);
      expect(output.out.join('\n')).toMatch(/ok\s+database\s+embedded PGlite/);
    } finally {
      await rm(freshHome, { recursive: true, force: true });
    }
  });

  it('fails doctor when the configured PostgreSQL cannot be reached', async () => {
    const config = loadConfig({ AETHER_HOME: home, AETHER_DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none', AETHER_MASTER_KEY: randomBytes(32).toString('hex') });
    const { context, output } = cliContext(home, createLauncher(config, () => Promise.resolve('test')));
    expect(await runCli(context, '0', ['doctor'])).toBe(1);
    expect(output.out.join('\n')).toMatch(/FAIL\s+database/);
  });
});
