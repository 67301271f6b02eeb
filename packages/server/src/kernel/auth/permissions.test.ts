import { describe, expect, it } from 'vitest';

import { parseCredential, mintCredential } from './credential-format.js';
import { can, permissionsOf, roleAtLeast, scopesAllow } from './permissions.js';

describe('permissions', () => {
  it('orders roles Owner > Admin > Developer > Viewer', () => {
    expect(roleAtLeast('owner', 'admin')).toBe(true);
    expect(roleAtLeast('developer', 'admin')).toBe(false);
    expect(roleAtLeast('viewer', 'viewer')).toBe(true);
  });

  it('gives each role everything below it and nothing above', () => {
    const viewer = permissionsOf('viewer');
    const admin = permissionsOf('admin');
    expect(viewer).toContain('tenant:read');
    expect(viewer).not.toContain('keys:write');
    expect(admin).toEqual(expect.arrayContaining([...viewer, 'keys:write', 'users:write']));
    expect(admin).not.toContain('tenant:update');
    expect(permissionsOf('owner')).toContain('tenant:update');
  });

  it('narrows a role by the key\'s scopes', () => {
    expect(scopesAllow(['*'], 'ledger:read')).toBe(true);
    expect(scopesAllow(['ledger:*'], 'ledger:write')).toBe(true);
    expect(scopesAllow(['ledger:read'], 'ledger:write')).toBe(false);
    expect(can('owner', ['ledger:read'], 'keys:write')).toBe(false);
    expect(can('viewer', ['*'], 'keys:write')).toBe(false);
    expect(can('admin', ['keys:write'], 'keys:write')).toBe(true);
  });
});

describe('credential format', () => {
  it('round-trips a minted credential to its record id and secret hash', () => {
    const minted = mintCredential('api_key', 'key_01j9z3abcdefghjkmnpqrstvwx');
    const parsed = parseCredential(minted.token);
    expect(parsed).toEqual({ token: minted.token, kind: 'api_key', id: 'key_01j9z3abcdefghjkmnpqrstvwx', secretHash: minted.secretHash });
  });

  it('does not take a JWT, a truncated key or another prefix for a credential', () => {
    expect(parseCredential('eyJhbGciOiJIUzI1NiJ9.e30.sig')).toBeUndefined();
    expect(parseCredential('ak_01j9z3abcdefghjkmnpqrstvwx_short')).toBeUndefined();
    expect(parseCredential(`xx_01j9z3abcdefghjkmnpqrstvwx_${'A'.repeat(43)}`)).toBeUndefined();
  });
});
