/** The SQLSTATE of an error PostgreSQL (or PGlite) reported, if it is one. */
function sqlStateOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** True for PostgreSQL's unique_violation (23505), on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlStateOf(error) === '23505';
}

/**
 * A deadlock or serialization failure: PostgreSQL rolled the transaction back and it may simply
 * be run again.
 */
export function isRetryableConflict(error: unknown): boolean {
  const code = sqlStateOf(error);
  return code === '40P01' || code === '40001';
}

/** The SQLSTATE `aether_expect` raises; an application code (class "AE"), never PostgreSQL's own. */
const EXPECTATION_FAILED = 'AE001';

/**
 * SQL that creates `aether_expect(ok boolean, problem text)`: true when `ok` is, else it raises
 * `problem` (SQLSTATE AE001), which aborts the statement and its transaction. A migration of each
 * module that uses it runs this (it replaces any earlier copy), so a write sent without waiting
 * for answers can still refuse itself when a precondition does not hold.
 */
export const expectFunctionSql = `
create or replace function aether_expect(ok boolean, problem text) returns boolean
language plpgsql as $$
begin
  if ok is not true then
    raise exception using errcode = '${EXPECTATION_FAILED}', message = problem;
  end if;
  return true;
end
$$;`;

/** True when `aether_expect` refused a statement (its precondition did not hold). */
export function isExpectationFailure(error: unknown): boolean {
  return sqlStateOf(error) === EXPECTATION_FAILED;
}

/**
 * True when a write planned without reading first (see `Database.writeInOneRoundTrip`) lost to
 * another write: a precondition it checked no longer held, or a row it meant to create already
 * exists. PostgreSQL refused it, so nothing of it committed and it may be redone another way.
 */
export function lostToConcurrentWrite(error: unknown): boolean {
  return isExpectationFailure(error) || isUniqueViolation(error);
}
