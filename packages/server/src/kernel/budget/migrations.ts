import { expectFunctionSql, tenantRlsSql, type Migration } from '../../infra/database/index.js';

/** Tables of the budget engine; every one is behind row-level security. */
export const budgetMigrations: Migration[] = [
  {
    module: 'budget',
    version: 1,
    name: 'budgets, reservations, notifications, task values',
    up: `
create table budget_limits (
  tenant_id text not null,
  id text not null,
  scope text not null check (scope in ('tenant', 'agent', 'task', 'subagent')),
  scope_id text not null,
  period text not null check (period in ('day', 'month', 'total')),
  period_start timestamptz not null,
  limit_micros bigint not null check (limit_micros >= 0),
  spent_micros bigint not null default 0,
  reserved_micros bigint not null default 0 check (reserved_micros >= 0),
  alert_level integer not null default 0,
  updated_at timestamptz not null,
  primary key (tenant_id, id),
  unique (tenant_id, scope, scope_id)
);
${tenantRlsSql('budget_limits')}

create table budget_reservations (
  tenant_id text not null,
  id text not null,
  budget_ids text[] not null,
  amount_micros bigint not null check (amount_micros >= 0),
  charged_micros bigint,
  kind text not null check (kind in ('llm', 'tool', 'vm_seconds')),
  item text not null,
  agent_id text,
  task_id text,
  subagent_id text,
  status text not null check (status in ('open', 'settled', 'released')),
  created_at timestamptz not null,
  settled_at timestamptz,
  primary key (tenant_id, id)
);
create index budget_reservations_settled on budget_reservations (tenant_id, settled_at) where status = 'settled';
${tenantRlsSql('budget_reservations')}

create table budget_notifications (
  tenant_id text not null,
  id text not null,
  budget_id text not null,
  level integer not null,
  message text not null,
  created_at timestamptz not null,
  primary key (tenant_id, id)
);
${tenantRlsSql('budget_notifications')}

create table budget_task_values (
  tenant_id text not null,
  task_id text not null,
  value_micros bigint not null,
  primary key (tenant_id, task_id)
);
${tenantRlsSql('budget_task_values')}
`,
  },
  {
    module: 'budget',
    version: 2,
    name: 'headroom leases: lease reservations and the lease each charge was carved from',
    up: `
alter table budget_reservations drop constraint budget_reservations_kind_check;
alter table budget_reservations add constraint budget_reservations_kind_check check (kind in ('llm', 'tool', 'vm_seconds', 'lease'));
alter table budget_reservations add column lease_id text;
-- Open reservations and leases: what the reaper and the leased amounts in budget listings read.
create index budget_reservations_open on budget_reservations (tenant_id, created_at) where status = 'open';
-- The charges of one lease, summed when it closes.
create index budget_reservations_lease on budget_reservations (tenant_id, lease_id) where lease_id is not null;
`,
  },
  {
    module: 'budget',
    version: 3,
    name: 'aether_expect, for lease charges sent in one round trip',
    up: expectFunctionSql,
  },
];
