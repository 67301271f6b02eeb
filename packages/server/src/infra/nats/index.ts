/**
 * @module infra/nats
 * The NATS JetStream connection, the durable event stream in a scaled-out deployment, and the
 * platform's event stream `AETHER_EVENTS` on it.
 */
export { connectNats, pingNats, type NatsConnection } from './nats-client.js';
export { EVENT_STREAM, EventStream, tenantEventSubject } from './event-stream.js';
