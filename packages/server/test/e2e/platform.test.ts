import { AetherApiError } from '@aether/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { errorOf } from '../support/api-errors.js';
import { startTestPlatform, type TestPlatform } from '../support/test-app.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform.close();
});

describe('platform end to end', () => {
  it('serves the first tenant to its Owner key through the typed client', async () => {
    const tenant = await platform.client().getTenant({ params: { tenantId: platform.tenantId } });
    expect(tenant).toMatchObject({ id: platform.tenantId, slug: 'default', status: 'active' });
    const me = await platform.client().getMe({});
    expect(me).toMatchObject({ type: 'api_key', tenant_id: platform.tenantId, role: 'owner' });
    expect(me.permissions).toContain('tenant:update');
  });

  it('lets the operator create a tenant, whose Owner then works only inside it', async () => {
    const operator = platform.client(platform.operatorKey);
    const acme = await operator.createTenant({ body: { slug: 'acme-e2e', name: 'Acme' } });
    const owner = await operator.call(
      { ...(await import('@aether/protocol')).tenancyRoutes.createApiKey },
      { body: { name: 'x', role: 'owner' } },
    ).catch((error: unknown) => error);
    // The operator acts across tenants, never inside one: creating a key needs a tenant principal.
    expect(owner).toBeInstanceOf(AetherApiError);
    expect((owner as AetherApiError).status).toBe(403);
    const fromOtherTenant = await errorOf(platform.client().getTenant({ params: { tenantId: acme.id } }));
    expect(fromOtherTenant.status).toBe(404);
    expect(fromOtherTenant.code).toBe('NOT_FOUND');
  });

  it('refuses a missing, malformed or unknown credential with 401 and a precise code', async () => {
    expect((await errorOf(platform.client('').getMe({}))).code).toBe('CREDENTIALS_MISSING');
    expect((await errorOf(platform.client('nonsense').getMe({}))).code).toBe('CREDENTIALS_INVALID');
    const forged = `ak_${'0'.repeat(26)}_${'A'.repeat(43)}`;
    expect((await errorOf(platform.client(forged).getMe({}))).code).toBe('CREDENTIALS_INVALID');
  });

  it('answers malformed JSON, unknown fields and wrong types with 400 and no change', async () => {
    const response = await fetch(`${platform.url}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.ownerKey}`, 'content-type': 'application/json' },
      body: '{"name": "x",',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('MALFORMED_JSON');
    const unknownField = await errorOf(
      platform.client().createApiKey({ body: { name: 'x', role: 'viewer', colour: 'red' } as never }),
    );
    expect(unknownField).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(unknownField.message).toContain('colour');
    const wrongType = await errorOf(platform.client().createApiKey({ body: { name: 5, role: 'viewer' } as never }));
    expect(wrongType.details['field']).toBe('body.name');
    const keys = await platform.client().listApiKeys({});
    expect(keys.items.map((key) => key.name)).toEqual(['initial owner key']);
  });
});
