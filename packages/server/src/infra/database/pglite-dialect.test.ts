import { CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';

import { inlineParameters } from './pglite-dialect.js';

function compiled(sqlText: string, parameters: unknown[]): CompiledQuery {
  return { ...CompiledQuery.raw(sqlText), parameters };
}

describe('inlineParameters', () => {
  it('writes each text parameter in as a quoted literal, in its place', () => {
    expect(inlineParameters(compiled('select set_config($2, $1, true)', ['tnt_a', 'aether.tenant_id']))).toBe(
      "select set_config('aether.tenant_id', 'tnt_a', true)",
    );
  });

  it('doubles quotes and writes backslashes in an escape string, so no value ends its literal', () => {
    expect(inlineParameters(compiled('select $1', ["a'); drop table x; --"]))).toBe("select 'a''); drop table x; --'");
    // pg's escapeLiteral puts a space before E'', hence two.
    expect(inlineParameters(compiled('select $1', [String.raw`a\'b`]))).toBe(String.raw`select  E'a\\''b'`);
  });

  it('refuses a parameter that is not text, or holds a NUL, naming it', () => {
    expect(() => inlineParameters(compiled('select $1', [1]))).toThrow(/\$1 is number/);
    expect(() => inlineParameters(compiled('select $1, $2', ['a', 'b\0']))).toThrow(/\$2.*NUL/);
  });
});
