import { type RouteContract } from '@aether/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PERMISSIONS, type Permission } from '../../src/kernel/auth/index.js';
import { asTenantId } from '../../src/shared/context/index.js';
import { startTestPlatform, type TestPlatform } from '../support/test-app.js';

/**
 * Walks every registered route: a caller from another tenant gets 404 (no existence leak) on
 * any route naming a resource, a caller whose role is too low gets 403, and a tenant caller on
 * an operator route gets 403. A new route with a path parameter this walk does not know fails
 * here until a fixture is added for it.
 */
let platform: TestPlatform;
const fixtures: Record<string, string> = {};
let otherTenantOwner = '';
let viewerKey = '';

beforeAll(async () => {
  platform = await startTestPlatform();
  const owner = platform.client();
  const other = await platform.client(platform.operatorKey).createTenant({ body: { slug: 'walk-other', name: 'Other' } });
  const otherCtx = { tenantId: asTenantId(other.id), principal: { type: 'operator' as const, id: 'op' }, requestId: 'r', traceId: 'r', signal: new AbortController().signal };
  otherTenantOwner = (await platform.app.apiKeys.create(otherCtx, { name: 'other owner', role: 'owner' })).secret;
  const viewer = await owner.createApiKey({ body: { name: 'viewer', role: 'viewer' } });
  viewerKey = viewer.secret;
  const user = await owner.createUser({ body: { email: 'walk@example.com', display_name: 'Walk', role: 'viewer', password: 'a long password' } });
  await owner.putSecret({ body: { name: 'WALK_SECRET', value: 'v' } });
  const vm = await owner.createVm({ body: { type: 'microvm' } });
  // Ledger seqs are per tenant: pick one past the other tenant's short chain, so it is ours alone.
  for (let i = 0; i < 10; i += 1) await owner.appendLedgerEntry({ body: { kind: 'task.started', subject: { task_id: `task_walk_${String(i % 2)}` }, payload: {} } });
  const seq = (await owner.listLedgerEntries({ query: { limit: 1000 } })).items.at(-1)?.seq ?? 0;
  const override = await owner.setModelOverride({ body: { id: 'openai:gpt-5', tier: 'mid' } });
  Object.assign(fixtures, { tenantId: platform.tenantId, userId: user.id, keyId: viewer.api_key.id, name: 'WALK_SECRET', vmId: vm.id, seq: String(seq), a: 'task_walk_0', b: 'task_walk_1', modelId: override.id });
});
afterAll(async () => {
  await platform.close();
});

function pathFor(contract: RouteContract): string {
  return contract.path.replace(/\{(\w+)\}/g, (_, param: string) => {
    const value = fixtures[param];
    if (value === undefined) throw new Error(`route-walk has no fixture for path parameter "${param}" of ${contract.path}; add one`);
    return encodeURIComponent(value);
  });
}

async function call(contract: RouteContract, apiKey: string): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(`${platform.url}${pathFor(contract)}`, {
    method: contract.method,
    headers: { authorization: `Bearer ${apiKey}`, ...(contract.body ? { 'content-type': 'application/json' } : {}) },
    ...(contract.body ? { body: JSON.stringify(contract.exampleBody ?? {}) } : {}),
  });
  const body = (await response.json().catch(() => ({}))) as { error?: { code?: string } };
  return { status: response.status, code: body.error?.code };
}

describe('every registered route', () => {
  it('has an example body wherever it takes a body', () => {
    const missing = platform.app.routes.filter(({ definition }) => definition.contract.body && definition.contract.exampleBody === undefined);
    expect(missing.map(({ name }) => name)).toEqual([]);
  });

  it('answers 404 to a caller from another tenant on any route that names a resource', async () => {
    const checked: string[] = [];
    for (const { name, definition } of platform.app.routes) {
      if (definition.access.kind !== 'tenant' || !definition.contract.path.includes('{')) continue;
      const result = await call(definition.contract, otherTenantOwner);
      expect({ name, ...result }).toEqual({ name, status: 404, code: expect.stringMatching(/NOT_FOUND$/) as unknown });
      checked.push(name);
    }
    expect(checked.length).toBeGreaterThan(3);
  });

  it('answers 403 to a caller whose role is below the route\'s permission', async () => {
    const checked: string[] = [];
    for (const { name, definition } of platform.app.routes) {
      const access = definition.access;
      if (access.kind !== 'tenant' || PERMISSIONS[access.permission as Permission] === 'viewer') continue;
      const result = await call(definition.contract, viewerKey);
      expect({ name, ...result }).toEqual({ name, status: 403, code: 'PERMISSION_DENIED' });
      checked.push(name);
    }
    expect(checked.length).toBeGreaterThan(3);
  });

  it('answers 403 to a tenant caller on operator routes', async () => {
    for (const { name, definition } of platform.app.routes) {
      if (definition.access.kind !== 'operator') continue;
      expect({ name, ...(await call(definition.contract, platform.ownerKey)) }).toEqual({ name, status: 403, code: 'OPERATOR_ONLY' });
    }
  });

  it('answers 401 without credentials on every route that needs them', async () => {
    for (const { name, definition } of platform.app.routes) {
      if (definition.access.kind === 'public') continue;
      const response = await fetch(`${platform.url}${pathFor(definition.contract)}`, { method: definition.contract.method });
      expect({ name, status: response.status }).toEqual({ name, status: 401 });
    }
  });

  it('changed nothing while being refused', async () => {
    const owner = platform.client();
    expect((await owner.listSecrets({})).items.map((secret) => secret.name)).toEqual(['WALK_SECRET']);
    const keys = await owner.listApiKeys({});
    expect(keys.items.every((key) => key.revoked_at === null)).toBe(true);
    expect((await owner.getUser({ params: { userId: fixtures['userId'] ?? '' } })).display_name).toBe('Walk');
    expect((await owner.listModelOverrides({})).items).toEqual([{ id: 'openai:gpt-5', tier: 'mid' }]);
  });
});
