import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createPinoLogger } from '../../src/infra/logger/index.js';
import { captureLogLines } from '../../src/infra/logger/testing/index.js';
import { asTenantId } from '../../src/shared/context/index.js';
import { startTestPlatform, type TestPlatform } from '../support/test-app.js';

const { lines, destination } = captureLogLines();
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({ logger: createPinoLogger({ level: 'warn', destination }) });
});
afterAll(async () => {
  await platform.close();
});

describe('logs of a request', () => {
  it('carry its request id, its trace id and its tenant id', async () => {
    // A stored override the catalog can no longer apply (as if the deployment had dropped the
    // model it changed): reading the catalog logs that it was skipped, inside the request.
    await platform.app.db.withTenant(asTenantId(platform.tenantId), (tx) =>
      sql`insert into model_overrides (tenant_id, model_id, override, updated_at)
          values (${platform.tenantId}, 'acme:dropped', ${JSON.stringify({ id: 'acme:dropped', prices: { input_per_million_usd: 1 } })}::jsonb, now())`.execute(tx),
    );
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await fetch(`${platform.url}/v1/models`, {
      headers: { authorization: `Bearer ${platform.ownerKey}`, 'x-request-id': 'req-log-test', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(response.status).toBe(200);
    const skipped = lines.find((line) => line['event'] === 'models.tenant-override-skipped');
    expect(skipped).toMatchObject({ level: 'warn', request_id: 'req-log-test', trace_id: traceId, tenant_id: platform.tenantId, model_id: 'acme:dropped' });
    expect(JSON.stringify(lines)).not.toContain(platform.ownerKey);
  });
});
