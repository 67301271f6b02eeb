import { connect, type NatsConnection } from 'nats';

import { ServiceUnavailableError } from '../../shared/errors/index.js';

export type { NatsConnection };

/**
 * Connects to NATS and checks that JetStream is enabled (it is the durable event stream).
 * @throws {ServiceUnavailableError} when NATS cannot be reached or has no JetStream.
 */
export async function connectNats(url: string, name = 'aether'): Promise<NatsConnection> {
  let connection: NatsConnection;
  try {
    connection = await connect({ servers: url, name, timeout: 3000, maxReconnectAttempts: -1 });
  } catch (error) {
    throw new ServiceUnavailableError(`cannot reach NATS at ${url}: ${String(error)}`, { cause: error });
  }
  try {
    await connection.jetstreamManager({ timeout: 3000 });
  } catch (error) {
    await connection.close();
    throw new ServiceUnavailableError(`NATS at ${url} has no JetStream (start nats-server with -js): ${String(error)}`, { cause: error });
  }
  return connection;
}

/** Round-trip to the server; throws when it does not answer. */
export async function pingNats(connection: NatsConnection): Promise<void> {
  await connection.flush();
}
