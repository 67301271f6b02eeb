import { JSONCodec, nanos, type JetStreamClient, type NatsConnection } from 'nats';

import { ServiceUnavailableError } from '../../shared/errors/index.js';

/** The platform's durable event stream: every subject under `aether.events.`. */
export const EVENT_STREAM = { name: 'AETHER_EVENTS', subjectPrefix: 'aether.events', maxAgeMs: 7 * 24 * 3_600_000 } as const;

// NATS subject tokens may not hold spaces, dots or wildcards; ids and event types here never do,
// so anything else is a caller's bug that would silently publish to the wrong subject.
const TOKEN = /^[A-Za-z0-9_-]+$/;

/** The subject of a tenant's event: `aether.events.<tenant>.<type with dots>`. */
export function tenantEventSubject(tenantId: string, type: string): string {
  const tokens = [tenantId, ...type.split('.')];
  const bad = tokens.find((token) => !TOKEN.test(token));
  if (bad !== undefined) throw new TypeError(`not a NATS subject token: ${JSON.stringify(bad)} (in tenant ${tenantId}, event ${type})`);
  return [EVENT_STREAM.subjectPrefix, ...tokens].join('.');
}

const codec = JSONCodec();

/**
 * Publishes JSON events to the JetStream stream `AETHER_EVENTS` (created when missing, 7 days
 * of retention). A publish returns once the stream has stored the event; a retry with the same
 * `messageId` is stored once (JetStream's duplicate window).
 */
export class EventStream {
  readonly #js: JetStreamClient;

  private constructor(js: JetStreamClient) {
    this.#js = js;
  }

  /**
   * Opens the stream on a connection, creating it on first use.
   * @throws {ServiceUnavailableError} when JetStream refuses to create or describe it.
   */
  static async open(connection: NatsConnection): Promise<EventStream> {
    const manager = await connection.jetstreamManager();
    const subjects = [`${EVENT_STREAM.subjectPrefix}.>`];
    try {
      await manager.streams.info(EVENT_STREAM.name);
    } catch (error) {
      if (!isStreamNotFound(error)) throw new ServiceUnavailableError(`cannot describe JetStream stream ${EVENT_STREAM.name}: ${String(error)}`, { cause: error });
      try {
        await manager.streams.add({ name: EVENT_STREAM.name, subjects, max_age: nanos(EVENT_STREAM.maxAgeMs) });
      } catch (addError) {
        // Another process may have created it between our two calls; that is as good.
        if (!String(addError).includes('already in use')) {
          throw new ServiceUnavailableError(`cannot create JetStream stream ${EVENT_STREAM.name}: ${String(addError)}`, { cause: addError });
        }
      }
    }
    return new EventStream(connection.jetstream());
  }

  /**
   * Stores one event; resolves with its sequence number in the stream. A retry must reuse the
   * `messageId` so that the stream keeps one copy.
   * @throws {ServiceUnavailableError} when the stream does not acknowledge it within `timeoutMs`.
   */
  async publish(subject: string, event: Readonly<Record<string, unknown>>, options: { messageId: string; timeoutMs?: number }): Promise<number> {
    try {
      const ack = await this.#js.publish(subject, codec.encode(event), { msgID: options.messageId, timeout: options.timeoutMs ?? 3000 });
      return ack.seq;
    } catch (error) {
      throw new ServiceUnavailableError(`JetStream did not store the event on ${subject}: ${String(error)}`, { cause: error });
    }
  }
}

function isStreamNotFound(error: unknown): boolean {
  // JetStream answers 404 with err_code 10059; nats.js surfaces it as "stream not found".
  const api = (error as { api_error?: { err_code?: number } } | undefined)?.api_error;
  return api?.err_code === 10059 || String(error).includes('stream not found');
}
