import { asTenantId, type TenantContext } from '../shared/context/index.js';
import type { App } from './create-app.js';

export interface InitResult {
  readonly created: boolean;
  readonly tenant_id: string;
  /** The first tenant's Owner API key; only when `created`. */
  readonly api_key?: string;
  /** The platform operator key; only when `created`. */
  readonly operator_key?: string;
}

/**
 * First-run setup, idempotent: creates the platform operator's key and a first tenant `default`
 * with an Owner API key. Secrets are returned once and never stored in clear.
 */
export async function initializePlatform(app: App): Promise<InitResult> {
  // The ledger's signing key exists before the first side effect is recorded.
  await app.ledger.init();
  if (await app.operatorKeys.exists()) {
    const existing = await app.tenants.find('default');
    return { created: false, tenant_id: existing?.id ?? '' };
  }
  const operator = await app.operatorKeys.create('initial operator key');
  const operatorPrincipal = { type: 'operator' as const, id: operator.id };
  const tenant = (await app.tenants.find('default')) ?? (await app.tenants.create(operatorPrincipal, { slug: 'default', name: 'Default tenant' }, 'init'));
  const ctx: TenantContext = {
    tenantId: asTenantId(tenant.id),
    principal: operatorPrincipal,
    requestId: 'init',
    traceId: 'init',
    signal: new AbortController().signal,
  };
  const key = await app.apiKeys.create(ctx, { name: 'initial owner key', role: 'owner' });
  return { created: true, tenant_id: tenant.id, api_key: key.secret, operator_key: operator.token };
}
