import type { Duplex } from 'node:stream';

import type pg from 'pg';

type QueryFn = (...args: unknown[]) => unknown;

/**
 * Makes every connection of `pool` write the queries issued in one burst of work (one turn of
 * promise continuations) to its socket at once. On a pipelined connection a transaction's
 * `begin`, tenant scope and first statement are issued back to back; corked, they leave in one
 * write instead of three, and a write is a system call, which costs more than the query's own
 * encoding here. The socket is uncorked on the next tick, so nothing waits for I/O to flush it.
 */
export function coalesceWritesOnConnect(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    // pg keeps the socket on its (undocumented but long-stable) connection object.
    const stream = (client as unknown as { connection?: { stream?: Duplex } }).connection?.stream;
    if (!stream) return;
    let corked = false;
    const flush = () => {
      corked = false;
      stream.uncork();
    };
    const query = client.query.bind(client) as QueryFn;
    const coalesced: QueryFn = (...args) => {
      if (!corked) {
        corked = true;
        stream.cork();
        process.nextTick(flush);
      }
      return query(...args);
    };
    (client as unknown as { query: QueryFn }).query = coalesced;
  });
}
