import { describe, expect, it } from 'vitest';

import { NotFoundError, RateLimitedError, ValidationError } from '../shared/errors/index.js';
import { STATUS_BY_KIND, toErrorResponse } from './error-response.js';

describe('toErrorResponse', () => {
  it('maps each kind to its one HTTP status', () => {
    expect(STATUS_BY_KIND).toEqual({
      invalid: 400, unauthenticated: 401, forbidden: 403, not_found: 404, conflict: 409,
      too_large: 413, limit_exceeded: 429, unavailable: 503, internal: 500,
    });
    expect(toErrorResponse(new NotFoundError('user', 'usr_1'), 'req_1')).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: 'user usr_1 was not found', details: { resource: 'user', id: 'usr_1' }, request_id: 'req_1' } },
    });
    expect(toErrorResponse(new RateLimitedError(3), 'r').status).toBe(429);
    expect(toErrorResponse(new ValidationError('bad', { field: 'body.name' }), 'r').body.error.details).toEqual({ field: 'body.name' });
  });

  it('shows nothing internal for an unexpected error', () => {
    const response = toErrorResponse(new Error('password=hunter2 at db.internal:5432'), 'req_9');
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('INTERNAL');
    expect(JSON.stringify(response.body)).not.toContain('hunter2');
  });

  it('maps Fastify\'s body errors to stable codes', () => {
    expect(toErrorResponse({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' }, 'r').body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(toErrorResponse({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }, 'r').body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(toErrorResponse(new SyntaxError('Unexpected end of JSON input'), 'r').body.error.code).toBe('MALFORMED_JSON');
  });
});
