import type { Quotas } from '@aether/protocol';

import type { DbTransaction } from '../../infra/database/index.js';
import type { TenantId } from '../../shared/context/index.js';
import { NotFoundError, QuotaExceededError } from '../../shared/errors/index.js';
import type { TenancyTables } from './tables.js';

/** A count-limited quota: how many of something a tenant may have at once. */
export type CountQuota = Exclude<keyof Quotas, 'requests_per_minute'>;

export interface QuotaCheck {
  readonly tenantId: TenantId;
  readonly quota: CountQuota;
  /** How many the tenant has now, counted inside the same transaction. */
  readonly current: () => Promise<number>;
  /** How many the action adds; 1 unless said otherwise. */
  readonly adding?: number;
}

/**
 * Refuses an action that would take a tenant past a count quota. It locks the tenant's row first,
 * so concurrent creations in the tenant queue up and cannot both pass the check.
 * @throws {QuotaExceededError} naming the quota and its limit.
 */
export async function enforceQuota(tx: DbTransaction, check: QuotaCheck): Promise<void> {
  const tenant = await tx
    .$extendTables<TenancyTables>()
    .selectFrom('tenants')
    .select('quotas')
    .where('id', '=', check.tenantId)
    .forUpdate()
    .executeTakeFirst();
  if (!tenant) throw new NotFoundError('tenant', check.tenantId);
  const limit = tenant.quotas[check.quota];
  const current = await check.current();
  if (current + (check.adding ?? 1) > limit) {
    throw new QuotaExceededError(`Tenant has reached its quota ${check.quota} of ${String(limit)}`, {
      details: { quota: check.quota, limit, current },
    });
  }
}
