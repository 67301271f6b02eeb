import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestPlatform, type TestPlatform } from '../support/test-app.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({ env: { AETHER_BODY_LIMIT_BYTES: '4096' } });
});
afterAll(async () => {
  await platform.close();
});

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: { error?: { code: string; details?: Record<string, unknown>; request_id: string } } }> {
  const response = await fetch(`${platform.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.ownerKey}`, 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, json: (await response.json()) as never };
}

describe('HTTP behaviour', () => {
  it('answers an oversize body with 413 PAYLOAD_TOO_LARGE and keeps nothing', async () => {
    const result = await post('/v1/secrets', JSON.stringify({ name: 'BIG', value: 'x'.repeat(8000) }));
    expect(result).toMatchObject({ status: 413, json: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
    expect((await platform.client().listSecrets({})).items).toEqual([]);
  });

  it('answers a non-JSON content type with 400 UNSUPPORTED_MEDIA_TYPE', async () => {
    const result = await post('/v1/secrets', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(result).toMatchObject({ status: 400, json: { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } } });
  });

  it('answers an empty JSON body with 400 naming the body', async () => {
    const result = await post('/v1/secrets', '');
    expect(result).toMatchObject({ status: 400, json: { error: { code: 'VALIDATION_FAILED', details: { field: 'body' } } } });
  });

  it('answers unknown routes with 404 ROUTE_NOT_FOUND in the error envelope, echoing the request id', async () => {
    const response = await fetch(`${platform.url}/v1/nope`, { headers: { 'x-request-id': 'trace-me-123' } });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-request-id')).toBe('trace-me-123');
    expect(await response.json()).toEqual({ error: { code: 'ROUTE_NOT_FOUND', message: 'No route GET /v1/nope', details: { method: 'GET', path: '/v1/nope' }, request_id: 'trace-me-123' } });
  });

  it('answers an expired access token with 401 TOKEN_EXPIRED and a revoked key with 401 API_KEY_REVOKED', async () => {
    const owner = platform.client();
    const created = await owner.createApiKey({ body: { name: 'short-lived', role: 'viewer' } });
    const tokens = await platform.client('').createToken({ body: { grant_type: 'api_key', api_key: created.secret } });
    expect((await platform.client(tokens.access_token).getMe({})).id).toBe(created.api_key.id);
    await owner.revokeApiKey({ params: { keyId: created.api_key.id } });
    const revoked = await platform.client(created.secret).getMe({}).catch((error: unknown) => error);
    expect(revoked).toMatchObject({ status: 401, code: 'API_KEY_REVOKED' });
    const viaToken = await platform.client(tokens.access_token).getMe({}).catch((error: unknown) => error);
    expect(viaToken).toMatchObject({ status: 401, code: 'API_KEY_REVOKED' });
  });

  it('serves Prometheus metrics with a latency histogram per route pattern, refusals and unknown paths included', async () => {
    await platform.client().getMe({});
    expect((await fetch(`${platform.url}/v1/me`)).status).toBe(401);
    expect((await fetch(`${platform.url}/v1/no-such-route`)).status).toBe(404);
    const text = await (await fetch(`${platform.url}/metrics`)).text();
    expect(text).toContain('aether_http_request_duration_seconds_bucket');
    expect(text).toMatch(/_count\{[^}]*route="\/v1\/me"[^}]*status_code="200"[^}]*\} [1-9]/);
    expect(text).toMatch(/_count\{[^}]*route="\/v1\/me"[^}]*status_code="401"[^}]*\} [1-9]/);
    expect(text).toMatch(/_count\{[^}]*route="unmatched"[^}]*status_code="404"[^}]*\} [1-9]/);
    expect(text).toMatch(/route="\/v1\/tenants\/:tenantId"|route="\/v1\/keys"/);
    // Every observation is a real duration: the sum over /v1/me is above zero and far below a minute.
    const sum = Number(/_sum\{[^}]*route="\/v1\/me"[^}]*status_code="200"[^}]*\} (\S+)/.exec(text)?.[1]);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(60);
  });

  it('publishes an OpenAPI 3.1 document of every route, and the reference page', async () => {
    const document = (await (await fetch(`${platform.url}/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, { operationId: string }>> };
    expect(document.openapi).toBe('3.1.0');
    const operations = Object.values(document.paths).flatMap((item) => Object.values(item).map((operation) => operation.operationId));
    expect(operations.sort()).toEqual(platform.app.routes.map((route) => route.name).sort());
    expect((await fetch(`${platform.url}/docs/`)).status).toBe(200);
  });

  it('reports readiness of each configured dependency', async () => {
    const response = await fetch(`${platform.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ready: true, checks: { database: { ok: true } } });
    expect(await (await fetch(`${platform.url}/healthz`)).json()).toEqual({ status: 'ok' });
  });
});

describe('rate limits', () => {
  it('answers past the tenant quota with 429 RATE_LIMITED and Retry-After', async () => {
    const limited = await startTestPlatform({ env: { AETHER_RATE_LIMIT_PER_MINUTE: '5' } });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let index = 0; index < 7; index += 1) {
        const response = await fetch(`${limited.url}/v1/me`, { headers: { authorization: `Bearer ${limited.ownerKey}` } });
        statuses.push(response.status);
        if (response.status === 429) {
          retryAfter = response.headers.get('retry-after');
          expect(((await response.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
        }
      }
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toEqual([429, 429]);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});

describe('TLS', () => {
  it('speaks HTTPS with TLS 1.3 at least when given a certificate and key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aether-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      const secure = await startTestPlatform({ env: { AETHER_TLS_CERT: join(dir, 'cert.pem'), AETHER_TLS_KEY: join(dir, 'key.pem') } });
      try {
        expect(secure.url.startsWith('https://')).toBe(true);
        const port = Number(new URL(secure.url).port);
        const negotiate = (maxVersion: 'TLSv1.2' | 'TLSv1.3') =>
          new Promise<string>((resolve, reject) => {
            const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion }, () => {
              resolve(socket.getProtocol() ?? 'none');
              socket.end();
            });
            socket.on('error', reject);
          });
        expect(await negotiate('TLSv1.3')).toBe('TLSv1.3');
        await expect(negotiate('TLSv1.2')).rejects.toThrow();
      } finally {
        await secure.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
