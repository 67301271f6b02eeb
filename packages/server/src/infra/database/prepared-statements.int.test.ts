import { createHash } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { prepareStatementsOnConnect, statementName } from './prepared-statements.js';
import { describeWithService } from './testing/index.js';

describeWithService('postgres', 'prepared statements on every connection', (url) => {
  let pool: pg.Pool;

  beforeAll(() => {
    // One connection, so every query below runs in the session whose statements we list.
    pool = new pg.Pool({ connectionString: url, max: 1 });
    prepareStatementsOnConnect(pool);
  });
  afterAll(async () => {
    await pool.end();
  });

  async function preparedNames(): Promise<string[]> {
    const result = await pool.query<{ name: string }>(`select name from pg_prepared_statements where name like 'aether_%' order by name`);
    return result.rows.map((row) => row.name);
  }

  it('names a statement by the SHA-1 of its text, the same name every time', () => {
    const text = 'select $1::int + 1 as next';
    const expected = `aether_${createHash('sha1').update(text).digest('base64url').slice(0, 27)}`;
    expect(statementName(text)).toBe(expected);
    expect(statementName(text)).toBe(expected);
    expect(statementName('select $1::int + 2 as next')).not.toBe(expected);
  });

  it('prepares a parameterised statement once per connection and reuses it', async () => {
    const text = 'select $1::int * 2 as doubled';
    const first = await pool.query<{ doubled: number }>(text, [21]);
    const second = await pool.query<{ doubled: number }>(text, [4]);
    expect([first.rows[0]?.doubled, second.rows[0]?.doubled]).toEqual([42, 8]);
    expect((await preparedNames()).filter((name) => name === statementName(text))).toHaveLength(1);
  });

  it('leaves statements without parameters unprepared', async () => {
    const before = await preparedNames();
    await pool.query('select 1 as one');
    expect(await preparedNames()).toEqual(before);
  });
});
