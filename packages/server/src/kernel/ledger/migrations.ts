import { expectFunctionSql, tenantRlsSql, type Migration } from '../../infra/database/index.js';

/**
 * Ledger tables. `ledger_entries.body` holds the exact bytes that were hashed (canonical JSON);
 * the other columns are copies kept for filtering and are never trusted by verification.
 * `ledger_heads` has one row per tenant, locked FOR UPDATE by every append, which is what keeps
 * the chain single and gapless across processes. `ledger_signing_keys` is platform-wide.
 */
export const ledgerMigrations: Migration[] = [
  {
    module: 'ledger',
    version: 1,
    name: 'ledger tables',
    up: `
create table ledger_entries (
  tenant_id text not null,
  seq bigint not null,
  recorded_at timestamptz not null,
  kind text not null,
  actor_type text not null,
  actor_id text not null,
  subject jsonb not null,
  personal_subject text,
  body text not null,
  hash text not null,
  key_id text not null,
  signature text not null,
  primary key (tenant_id, seq)
);
create index ledger_entries_kind on ledger_entries (tenant_id, kind, seq);
create index ledger_entries_actor on ledger_entries (tenant_id, actor_id, seq);
create index ledger_entries_time on ledger_entries (tenant_id, recorded_at);
create index ledger_entries_subject on ledger_entries using gin (subject jsonb_path_ops);
${tenantRlsSql('ledger_entries')}

create table ledger_heads (
  tenant_id text primary key,
  seq bigint not null,
  hash text not null,
  frontier jsonb not null,
  checkpoint_seq bigint not null default 0,
  checkpoint_at timestamptz
);
${tenantRlsSql('ledger_heads')}

create table ledger_checkpoints (
  tenant_id text not null,
  tree_size bigint not null,
  root_hash text not null,
  created_at timestamptz not null,
  body text not null,
  hash text not null,
  key_id text not null,
  signature text not null,
  primary key (tenant_id, tree_size)
);
${tenantRlsSql('ledger_checkpoints')}

create table ledger_subject_keys (
  tenant_id text not null,
  subject_id text not null,
  sealed_key bytea not null,
  created_at timestamptz not null,
  primary key (tenant_id, subject_id)
);
${tenantRlsSql('ledger_subject_keys')}

create table ledger_erasures (
  tenant_id text not null,
  subject_id text not null,
  erased_at timestamptz not null,
  primary key (tenant_id, subject_id)
);
${tenantRlsSql('ledger_erasures')}

create table ledger_signing_keys (
  key_id text primary key,
  public_x text not null,
  sealed_private_key bytea not null,
  created_at timestamptz not null,
  retired_at timestamptz
);
create unique index ledger_signing_keys_one_active on ledger_signing_keys ((retired_at is null)) where retired_at is null;
`,
  },
  {
    module: 'ledger',
    version: 2,
    name: 'aether_expect, for appends sent without reading the head first',
    up: expectFunctionSql,
  },
];
