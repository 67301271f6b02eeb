import { describe, expect, it } from 'vitest';

import { ManualClock, silentLogger } from '../../shared/ports/index.js';
import { VmTokenInvalidError } from '../errors.js';
import { hostAllowed, isForbiddenAddress } from './address-policy.js';
import { EgressProxy } from './egress-proxy.js';
import { VmTokenIssuer } from './vm-token.js';

describe('isForbiddenAddress', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:169.254.169.254', 'not-an-ip'])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });
  it.each(['93.184.216.34', '1.1.1.1', '2606:4700::1111'])('allows the public address %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });
});

describe('hostAllowed', () => {
  it('matches exact names and *.suffix wildcards, case-insensitively', () => {
    expect(hostAllowed('PyPI.org', ['pypi.org'])).toBe(true);
    expect(hostAllowed('files.pythonhosted.org', ['*.pythonhosted.org'])).toBe(true);
    expect(hostAllowed('pythonhosted.org', ['*.pythonhosted.org'])).toBe(false);
    expect(hostAllowed('evilpypi.org', ['pypi.org'])).toBe(false);
    expect(hostAllowed('anything.example', 'any')).toBe(true);
  });
});

describe('EgressProxy.decide', () => {
  const resolver = (host: string) => {
    const table: Record<string, string[]> = { 'public.test': ['93.184.216.34'], 'rebind.test': ['93.184.216.34', '169.254.169.254'], 'gateway.test': ['127.0.0.1'] };
    const answer = table[host];
    return answer ? Promise.resolve(answer) : Promise.reject(new Error('NXDOMAIN'));
  };
  const make = (limits = { perTenantPerMinute: 100, perVmPerMinute: 100 }) => {
    const clock = new ManualClock();
    return { clock, proxy: new EgressProxy({ logger: silentLogger, clock, resolver, ...limits, internalTargets: ['gateway.test:8080'] }) };
  };
  const policy = { tenantId: 'tnt_a', vmId: 'vm_1', allowlist: ['public.test', 'rebind.test', 'gateway.test', 'missing.test'] };

  it('allows an allowlisted name that resolves to a public address, and connects to that address', async () => {
    expect(await make().proxy.decide(policy, 'public.test', 443)).toEqual({ allowed: true, address: '93.184.216.34' });
  });

  it('refuses names off the allowlist, direct IPs, private answers and unresolvable names', async () => {
    const { proxy } = make();
    expect(await proxy.decide(policy, 'other.test', 443)).toMatchObject({ allowed: false, status: 403 });
    expect(await proxy.decide(policy, '93.184.216.34', 443)).toMatchObject({ allowed: false, status: 403 });
    expect(await proxy.decide(policy, 'rebind.test', 443)).toMatchObject({ allowed: false, status: 403 });
    expect(await proxy.decide(policy, 'gateway.test', 9999)).toMatchObject({ allowed: false, status: 403 });
    expect(await proxy.decide(policy, 'missing.test', 443)).toMatchObject({ allowed: false, status: 502 });
  });

  it('lets only the configured internal target resolve to loopback', async () => {
    expect(await make().proxy.decide(policy, 'gateway.test', 8080)).toEqual({ allowed: true, address: '127.0.0.1' });
  });

  it('rate-limits per VM and per tenant, per minute', async () => {
    const { proxy, clock } = make({ perTenantPerMinute: 3, perVmPerMinute: 2 });
    expect((await proxy.decide(policy, 'public.test', 443)).allowed).toBe(true);
    expect((await proxy.decide(policy, 'public.test', 443)).allowed).toBe(true);
    expect(await proxy.decide(policy, 'public.test', 443)).toMatchObject({ status: 429, reason: 'vm rate limit' });
    expect((await proxy.decide({ ...policy, vmId: 'vm_2' }, 'public.test', 443))).toMatchObject({ status: 429, reason: 'tenant rate limit' });
    clock.advance(60_000);
    expect((await proxy.decide(policy, 'public.test', 443)).allowed).toBe(true);
  });
});

describe('VmTokenIssuer', () => {
  const clock = new ManualClock();
  const issuer = new VmTokenIssuer({ key: Buffer.alloc(32, 7), clock, ttlMs: 60_000 });

  it('verifies a token for its own VM and run', () => {
    const token = issuer.issue({ tenantId: 'tnt_a', vmId: 'vm_1', runId: 'run_1' });
    expect(issuer.verify(token, { vmId: 'vm_1', runId: 'run_1' })).toMatchObject({ tenantId: 'tnt_a', vmId: 'vm_1' });
  });

  it('rejects another VM, another run, a forged signature, garbage and an expired token', () => {
    const token = issuer.issue({ tenantId: 'tnt_a', vmId: 'vm_1', runId: 'run_1' });
    expect(() => issuer.verify(token, { vmId: 'vm_2', runId: 'run_1' })).toThrow(VmTokenInvalidError);
    expect(() => issuer.verify(token, { vmId: 'vm_1', runId: 'run_2' })).toThrow(VmTokenInvalidError);
    const other = new VmTokenIssuer({ key: Buffer.alloc(32, 8), clock });
    expect(() => issuer.verify(other.issue({ tenantId: 'tnt_a', vmId: 'vm_1', runId: 'run_1' }), { vmId: 'vm_1', runId: 'run_1' })).toThrow(VmTokenInvalidError);
    expect(() => issuer.verify('vmt_x', { vmId: 'vm_1', runId: 'run_1' })).toThrow(VmTokenInvalidError);
    clock.advance(60_000);
    expect(() => issuer.verify(token, { vmId: 'vm_1', runId: 'run_1' })).toThrow(VmTokenInvalidError);
  });
});
