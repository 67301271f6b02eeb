 
import { describe } from 'vitest';

/** Where the real services are, for integration tests. `.ci/run` sets all three. */
export const testServices = {
  databaseUrl: process.env['AETHER_TEST_DATABASE_URL'],
  redisUrl: process.env['AETHER_TEST_REDIS_URL'],
  natsUrl: process.env['AETHER_TEST_NATS_URL'],
  isCi: process.env['CI'] === 'true',
} as const;

export type TestService = 'postgres' | 'redis' | 'nats';

function urlOf(service: TestService): string | undefined {
  switch (service) {
    case 'postgres':
      return testServices.databaseUrl;
    case 'redis':
      return testServices.redisUrl;
    case 'nats':
      return testServices.natsUrl;
  }
}

/**
 * `describe` for a suite that needs a real service. Without the service's URL the suite is
 * skipped on a laptop, but under CI=true it fails, so CI can never pass by skipping.
 */
export function describeWithService(service: TestService, name: string, body: (url: string) => void): void {
  const url = urlOf(service);
  if (url) {
    describe(name, () => {
      body(url);
    });
    return;
  }
  if (testServices.isCi) {
    throw new Error(`CI=true but AETHER_TEST_${service === 'postgres' ? 'DATABASE' : service.toUpperCase()}_URL is not set; "${name}" needs ${service}`);
  }
  describe.skip(`${name} (skipped: no ${service} configured)`, () => {
    body('');
  });
}
