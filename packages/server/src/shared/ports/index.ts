/**
 * @module shared/ports
 * The ports every layer uses: Clock and Logger, with their in-memory implementations.
 */
export { ManualClock, SystemClock, type Clock } from './clock.js';
export { MemoryLogger, silentLogger, type LogFields, type LogRecord, type Logger } from './logger.js';
