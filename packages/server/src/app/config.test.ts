import { describe, expect, it } from 'vitest';

import { ValidationError } from '../shared/errors/index.js';
import { loadConfig, parseMasterKey } from './config.js';

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const config = loadConfig({ AETHER_HOME: '/tmp/aether-home' });
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 7070, roles: ['api', 'worker', 'scheduler'] });
    expect(config.database).toEqual({ engine: 'pglite', dataDir: '/tmp/aether-home/data/pglite' });
    expect(config.redis).toBeUndefined();
    expect(config.nats).toBeUndefined();
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it('switches to PostgreSQL, Redis and NATS when their URLs are set', () => {
    const config = loadConfig({
      AETHER_DATABASE_URL: 'postgres://u@db:5432/aether',
      AETHER_REDIS_URL: 'redis://cache:6379',
      AETHER_NATS_URL: 'nats://bus:4222',
    });
    expect(config.database).toMatchObject({ engine: 'postgres', url: 'postgres://u@db:5432/aether', schema: 'public' });
    expect(config.redis?.url).toBe('redis://cache:6379');
    expect(config.nats?.url).toBe('nats://bus:4222');
  });

  it('reports every invalid variable at once, by name', () => {
    let error: unknown;
    try {
      loadConfig({ AETHER_PORT: 'eighty', AETHER_DATABASE_URL: 'mysql://x', AETHER_LOG_LEVEL: 'loud' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const message = (error as Error).message;
    expect(message).toContain('AETHER_PORT');
    expect(message).toContain('AETHER_DATABASE_URL');
    expect(message).toContain('AETHER_LOG_LEVEL');
  });

  it('refuses a malformed master key, a lone TLS file and an unknown role', () => {
    expect(() => loadConfig({ AETHER_MASTER_KEY: 'short' })).toThrow(/AETHER_MASTER_KEY/);
    expect(() => loadConfig({ AETHER_TLS_CERT: '/c.pem' })).toThrow(/AETHER_TLS_CERT and AETHER_TLS_KEY/);
    expect(() => loadConfig({ AETHER_ROLES: 'api,chef' })).toThrow(/chef/);
  });

  it('caps whole (non-streamed) model answers at 1,024 output tokens unless told otherwise, and refuses a negative cap', () => {
    expect(loadConfig({}).models.wholeResponseMaxTokens).toBe(1024);
    expect(loadConfig({ AETHER_MODELS_WHOLE_RESPONSE_MAX_TOKENS: '0' }).models.wholeResponseMaxTokens).toBe(0);
    expect(() => loadConfig({ AETHER_MODELS_WHOLE_RESPONSE_MAX_TOKENS: '-1' })).toThrow(/AETHER_MODELS_WHOLE_RESPONSE_MAX_TOKENS/);
  });
});

describe('parseMasterKey', () => {
  it('takes 64 hex characters or base64 of 32 bytes', () => {
    expect(parseMasterKey('ab'.repeat(32))).toHaveLength(32);
    expect(parseMasterKey(Buffer.alloc(32, 7).toString('base64'))).toEqual(Buffer.alloc(32, 7));
    expect(() => parseMasterKey('abcd')).toThrow(/32 bytes/);
  });
});

describe('loadConfig (hypervisor slice)', () => {
  it('fails closed by default, with a MicroVM pool and no egress', () => {
    const { hypervisor } = loadConfig({ AETHER_HOME: '/tmp/aether-home', AETHER_HYPERVISOR_STATE_DIR: '/srv/sb' });
    expect(hypervisor).toMatchObject({ stateDir: '/srv/sb', driverByType: {}, allowNamespaceSecureVm: false, allowUnisolated: false, poolSizes: { microvm: 2 }, image: 'host', egressAllowlist: [] });
  });

  it('parses driver overrides, pool sizes and the egress allowlist', () => {
    const { hypervisor } = loadConfig({
      AETHER_HYPERVISOR_DRIVERS: 'devvm=gvisor, microvm=bwrap',
      AETHER_HYPERVISOR_POOL: 'microvm=4,securevm=1',
      AETHER_HYPERVISOR_EGRESS_ALLOWLIST: 'pypi.org, *.pythonhosted.org',
      AETHER_HYPERVISOR_ALLOW_NAMESPACE_SECUREVM: 'true',
    });
    expect(hypervisor.driverByType).toEqual({ devvm: 'gvisor', microvm: 'bwrap' });
    expect(hypervisor.poolSizes).toEqual({ microvm: 4, securevm: 1 });
    expect(hypervisor.egressAllowlist).toEqual(['pypi.org', '*.pythonhosted.org']);
    expect(hypervisor.allowNamespaceSecureVm).toBe(true);
  });

  it('names a bad driver map or pool size', () => {
    expect(() => loadConfig({ AETHER_HYPERVISOR_DRIVERS: 'devvm=docker' })).toThrow(/AETHER_HYPERVISOR_DRIVERS/);
    expect(() => loadConfig({ AETHER_HYPERVISOR_DRIVERS: 'bigvm=bwrap' })).toThrow(/AETHER_HYPERVISOR_DRIVERS/);
    expect(() => loadConfig({ AETHER_HYPERVISOR_POOL: 'microvm=lots' })).toThrow(/AETHER_HYPERVISOR_POOL/);
  });
});
