/**
 * @module infra/nats
 * The NATS JetStream connection, the durable event stream in a scaled-out deployment.
 */
export { connectNats, pingNats, type NatsConnection } from './nats-client.js';
