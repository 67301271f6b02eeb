import { describe, expect, it } from 'vitest';

import { renderTable } from './io.js';

describe('renderTable', () => {
  it('aligns columns and shows missing values as a dash', () => {
    expect(renderTable([{ id: 'a', role: 'owner', revoked: null }, { id: 'bbb', role: 'viewer', revoked: '2030' }])).toBe(
      ['ID   ROLE    REVOKED', 'a    owner   -', 'bbb  viewer  2030'].join('\n'),
    );
    expect(renderTable([])).toBe('(none)');
  });
});
