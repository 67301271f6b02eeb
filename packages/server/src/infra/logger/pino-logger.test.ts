import { describe, expect, it } from 'vitest';

import { createPinoLogger, extendLogScope, withLogScope } from './pino-logger.js';
import { captureLogLines } from './testing/index.js';

describe('createPinoLogger', () => {
  it('writes JSON lines with the event, the level name and the fields of the current scope', () => {
    const { lines, destination } = captureLogLines();
    const log = createPinoLogger({ level: 'info', destination }).child({ module: 'test' });
    withLogScope({ request_id: 'req_1', trace_id: 'trace_1' }, () => {
      extendLogScope({ tenant_id: 'tnt_1' });
      log.info('thing.happened', { count: 2 });
    });
    log.info('outside.scope');
    expect(lines[0]).toMatchObject({ level: 'info', service: 'aether', module: 'test', event: 'thing.happened', count: 2, request_id: 'req_1', trace_id: 'trace_1', tenant_id: 'tnt_1' });
    expect(lines[1]).not.toHaveProperty('request_id');
  });

  it('keeps scopes apart: an inner scope adds to its outer one, and extending one never touches another', () => {
    const { lines, destination } = captureLogLines();
    const log = createPinoLogger({ level: 'info', destination });
    withLogScope({ request_id: 'outer' }, () => {
      withLogScope({ trace_id: 'inner' }, () => {
        extendLogScope({ tenant_id: 'tnt_inner' });
        log.info('inner');
      });
      log.info('outer');
    });
    expect(lines[0]).toMatchObject({ request_id: 'outer', trace_id: 'inner', tenant_id: 'tnt_inner' });
    expect(lines[1]).toMatchObject({ request_id: 'outer' });
    expect(lines[1]).not.toHaveProperty('tenant_id');
  });

  it('never writes secrets: passwords, keys, tokens and authorization headers are redacted at any known depth', () => {
    const { lines, destination } = captureLogLines();
    const log = createPinoLogger({ level: 'info', destination });
    log.info('login', { password: 'hunter2', api_key: 'ak_secret', token: 't', headers: { authorization: 'Bearer ak_secret' }, body: { refresh_token: 'r', value: 'secret value' } });
    const text = JSON.stringify(lines[0]);
    for (const secret of ['hunter2', 'ak_secret', 'secret value']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ password: '[redacted]', api_key: '[redacted]', headers: { authorization: '[redacted]' }, body: { refresh_token: '[redacted]', value: '[redacted]' } });
  });

  it('writes nothing below its level', () => {
    const { lines, destination } = captureLogLines();
    const log = createPinoLogger({ level: 'warn', destination });
    log.info('quiet');
    log.debug('quieter');
    log.warn('loud');
    expect(lines.map((line) => line['event'])).toEqual(['loud']);
  });
});
