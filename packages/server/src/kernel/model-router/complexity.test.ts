import { describe, expect, it } from 'vitest';

import { estimateComplexity } from './complexity.js';

describe('estimateComplexity', () => {
  it('scores a greeting low with its reasons', () => {
    const estimate = estimateComplexity([{ role: 'user', content: 'hello' }], []);
    expect(estimate.level).toBe('low');
    expect(estimate.score).toBeGreaterThanOrEqual(0);
    expect(estimate.reasons[0]).toMatch(/prompt of 5 characters/);
  });

  it('raises the score for code, tools, domain words and depth, staying within [0, 1]', () => {
    const tools = Array.from({ length: 8 }, (_, i) => ({ name: `t${String(i)}`, description: '', parameters: {} }));
    const history = Array.from({ length: 30 }, (_, i) => ({ role: i % 2 ? ('assistant' as const) : ('user' as const), content: 'x' }));
    const code = '```ts\nfunction f() { return 1; }\nclass A {}\nconst g = () => f();\nimport x from "y";\n```';
    const estimate = estimateComplexity([...history, { role: 'user', content: `Refactor and optimize this distributed algorithm for security; prove no deadlock.\n${code}`.repeat(30) }], tools);
    expect(estimate.level).toBe('high');
    expect(estimate.score).toBeLessThanOrEqual(1);
    expect(estimate.features.toolCount).toBe(8);
    expect(estimate.features.domainWords).toEqual(expect.arrayContaining(['refactor', 'optimize', 'distributed', 'security']));
    expect(estimate.reasons.join(' ')).toMatch(/tools offered/);
  });
});
