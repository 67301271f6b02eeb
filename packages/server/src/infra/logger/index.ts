/**
 * @module infra/logger
 * The pino implementation of the Logger port, with request-scoped fields (tenant, trace, request).
 */
export { createPinoLogger, extendLogScope, withLogScope, type LogScope, type PinoLoggerOptions } from './pino-logger.js';
