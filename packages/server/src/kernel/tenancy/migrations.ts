import { TENANT_SETTING, tenantRlsSql, type Migration } from '../../infra/database/index.js';

export const tenancyMigrations: readonly Migration[] = [
  {
    module: 'tenancy',
    version: 1,
    name: 'tenants, users, secrets',
    up: `
create table tenants (
  id text primary key,
  slug text not null unique,
  name text not null,
  status text not null default 'active' check (status in ('active', 'suspended')),
  quotas jsonb not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
-- A tenant sees only its own row; the tenants table keys on id rather than tenant_id.
alter table tenants enable row level security;
create policy tenants_tenant_isolation on tenants
  using (id = current_setting('${TENANT_SETTING}', true)) with check (id = current_setting('${TENANT_SETTING}', true));

create table users (
  id text primary key,
  tenant_id text not null references tenants(id),
  email text not null,
  display_name text not null,
  role text not null check (role in ('owner', 'admin', 'developer', 'viewer')),
  status text not null default 'active' check (status in ('active', 'disabled')),
  password_hash text not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create unique index users_tenant_email on users (tenant_id, lower(email));
${tenantRlsSql('users')}

create table secrets (
  tenant_id text not null references tenants(id),
  name text not null,
  description text not null default '',
  ciphertext bytea not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (tenant_id, name)
);
${tenantRlsSql('secrets')}
`,
  },
];
