import { tenantRlsSql, type Migration } from '../../infra/database/index.js';

export const authMigrations: readonly Migration[] = [
  {
    module: 'auth',
    version: 1,
    name: 'api keys, operator keys, refresh tokens',
    up: `
create table api_keys (
  id text primary key,
  tenant_id text not null references tenants(id),
  name text not null,
  role text not null check (role in ('owner', 'admin', 'developer', 'viewer')),
  scopes jsonb not null,
  secret_hash text not null,
  created_by text not null,
  created_at timestamptz not null,
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index api_keys_tenant on api_keys (tenant_id, id);
${tenantRlsSql('api_keys')}

-- The platform operator's keys belong to no tenant.
create table operator_keys (
  id text primary key,
  name text not null,
  secret_hash text not null,
  created_at timestamptz not null,
  revoked_at timestamptz
);

create table refresh_tokens (
  id text primary key,
  tenant_id text not null references tenants(id),
  family_id text not null,
  principal_type text not null check (principal_type in ('user', 'api_key')),
  principal_id text not null,
  secret_hash text not null,
  issued_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz,
  revoked_at timestamptz
);
create index refresh_tokens_family on refresh_tokens (family_id);
${tenantRlsSql('refresh_tokens')}
`,
  },
];
