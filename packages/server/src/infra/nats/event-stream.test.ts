import { describe, expect, it } from 'vitest';

import { tenantEventSubject } from './event-stream.js';

describe('tenantEventSubject', () => {
  it('puts the tenant and the dotted event type under aether.events', () => {
    expect(tenantEventSubject('tnt_01abc', 'budget.threshold_reached')).toBe('aether.events.tnt_01abc.budget.threshold_reached');
  });

  it('refuses tokens that would publish to another subject or a wildcard', () => {
    expect(() => tenantEventSubject('tnt_a.b', 'budget.x')).toThrow(/"tnt_a"|subject token/);
    expect(() => tenantEventSubject('*', 'budget.x')).toThrow(/"\*"/);
    expect(() => tenantEventSubject('tnt_a', 'budget.>')).toThrow(/">"/);
    expect(() => tenantEventSubject('tnt_a', 'budget..x')).toThrow(/""/);
  });
});
