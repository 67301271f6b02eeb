/**
 * @module infra/nats/testing
 * A suite on the real NATS server: one connection per suite, drained after it.
 */
import { afterAll, beforeAll } from 'vitest';

import { describeWithService } from '../../database/testing/index.js';
import { connectNats, type NatsConnection } from '../nats-client.js';

/**
 * `describeWithService('nats', …)` whose body gets the suite's connection (read it inside tests:
 * it is opened in `beforeAll`).
 */
export function describeWithNats(name: string, body: (connection: () => NatsConnection) => void): void {
  describeWithService('nats', name, (url) => {
    let connection: NatsConnection | undefined;
    beforeAll(async () => {
      connection = await connectNats(url, 'aether-test');
    });
    afterAll(async () => {
      await connection?.drain();
    });
    body(() => {
      if (!connection) throw new Error('the NATS connection opens in beforeAll; read it inside a test');
      return connection;
    });
  });
}
