import { randomBytes } from 'node:crypto';

import { JSONCodec } from 'nats';
import { expect, it } from 'vitest';

import { EVENT_STREAM, EventStream, tenantEventSubject } from './event-stream.js';
import { describeWithNats } from './testing/index.js';

describeWithNats('EventStream on NATS JetStream', (connection) => {
  it('creates the stream once, stores each event on its tenant subject, and stores a retried message id once', async () => {
    const [first, second] = await Promise.all([EventStream.open(connection()), EventStream.open(connection())]);
    const tenant = `tnt_${randomBytes(6).toString('hex')}`;
    const subject = tenantEventSubject(tenant, 'budget.threshold_reached');
    expect(subject).toBe(`aether.events.${tenant}.budget.threshold_reached`);
    const id = `evt_${randomBytes(6).toString('hex')}`;
    const seq = await first.publish(subject, { id, level: 75 }, { messageId: id });
    expect(await second.publish(subject, { id, level: 75 }, { messageId: id })).toBe(seq);

    const manager = await connection().jetstreamManager();
    const info = await manager.streams.info(EVENT_STREAM.name);
    expect(info.config.subjects).toEqual(['aether.events.>']);
    const stored = await manager.streams.getMessage(EVENT_STREAM.name, { last_by_subj: subject });
    expect(stored.seq).toBe(seq);
    expect(JSONCodec().decode(stored.data)).toEqual({ id, level: 75 });
  });

  it('names the stream in the error when nothing stores a subject outside it', async () => {
    const stream = await EventStream.open(connection());
    await expect(stream.publish('elsewhere.not.captured', {}, { messageId: 'x', timeoutMs: 500 })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('elsewhere.not.captured') as unknown });
  });
});
