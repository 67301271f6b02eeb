import { tenantRlsSql, type Migration } from '../../infra/database/index.js';

/** Tables of the hypervisor: one row per VM, behind row-level security. */
export const hypervisorMigrations: Migration[] = [
  {
    module: 'hypervisor',
    version: 1,
    name: 'vms',
    up: `
create table hypervisor_vms (
  id text primary key,
  tenant_id text not null,
  type text not null check (type in ('microvm', 'devvm', 'agentvm', 'securevm')),
  driver text not null,
  state text not null check (state in ('running', 'stopped', 'destroyed')),
  vcpus integer not null,
  memory_mb integer not null,
  classification text not null,
  image text not null,
  sandbox_name text not null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  stopped_at timestamptz
);
create index hypervisor_vms_tenant on hypervisor_vms (tenant_id, id);
create index hypervisor_vms_expiry on hypervisor_vms (expires_at) where state = 'running';
${tenantRlsSql('hypervisor_vms')}
`,
  },
];
