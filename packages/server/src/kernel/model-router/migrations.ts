import { tenantRlsSql, type Migration } from '../../infra/database/index.js';

/** The tenant's own changes to the model catalog; behind row-level security. */
export const modelRouterMigrations: Migration[] = [
  {
    module: 'model_router',
    version: 1,
    name: 'tenant model catalog overrides',
    up: `
create table model_overrides (
  tenant_id text not null,
  model_id text not null,
  override jsonb not null,
  updated_at timestamptz not null,
  primary key (tenant_id, model_id)
);
${tenantRlsSql('model_overrides')}
`,
  },
];
