import { AsyncLocalStorage } from 'node:async_hooks';

import type { CompiledQuery } from 'kysely';

/**
 * The statement that the next transaction opened in `withTransactionPrelude`'s callback runs
 * first. Taken once: a transaction opened inside that one's work (a system transaction, say)
 * inherits the async context, but not the prelude.
 */
const preludes = new AsyncLocalStorage<{ query: CompiledQuery | undefined }>();

/**
 * Runs `open` (which opens one transaction) so that the transaction starts with `prelude` (the
 * tenant scope of a tenant transaction), sent together with its `begin`: in one round trip on a
 * pipelined PostgreSQL connection, in one call on PGlite. Only the dialects that take preludes
 * (`PipelinedPostgresDialect`, `PGliteDialect`) may open it; any other would drop it.
 */
export function withTransactionPrelude<T>(prelude: CompiledQuery, open: () => Promise<T>): Promise<T> {
  return preludes.run({ query: prelude }, open);
}

/** The prelude of the transaction being opened, taken once (see `withTransactionPrelude`). */
export function takePrelude(): CompiledQuery | undefined {
  const holder = preludes.getStore();
  const query = holder?.query;
  if (holder) holder.query = undefined;
  return query;
}
