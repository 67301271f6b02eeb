import { describe, expect, it } from 'vitest';

import { ManualClock } from '../../shared/ports/index.js';
import type { LockedHead } from './append-batch.js';
import { GENESIS_HASH } from './format.js';
import { HeadHints } from './head-hints.js';
import { MerkleFrontier } from './merkle.js';

const head = (seq: number): LockedHead => ({ seq, hash: seq === 0 ? GENESIS_HASH : `hash-${String(seq)}`, frontier: new MerkleFrontier(), checkpointSeq: 0, checkpointAt: null });

describe('HeadHints', () => {
  it('hands a tenant\'s hint to one write at a time: taken until the next one is remembered', () => {
    const hints = new HeadHints({ clock: new ManualClock() });
    expect(hints.take('tnt_a')).toBeUndefined();
    hints.remember('tnt_a', head(3));
    hints.remember('tnt_b', head(7));
    expect(hints.take('tnt_a')?.seq).toBe(3);
    expect(hints.take('tnt_a')).toBeUndefined();
    expect(hints.take('tnt_b')?.seq).toBe(7);
    hints.remember('tnt_a', head(4));
    expect(hints.take('tnt_a')?.seq).toBe(4);
  });

  it('keeps the later head when two writes finish out of order', () => {
    const hints = new HeadHints({ clock: new ManualClock() });
    hints.remember('tnt_a', head(8));
    hints.remember('tnt_a', head(6));
    expect(hints.take('tnt_a')?.seq).toBe(8);
  });

  it('gives a tenant whose planned write failed no hint until its cool-down has passed', () => {
    const clock = new ManualClock();
    const hints = new HeadHints({ clock, coolDownMs: 1000 });
    hints.failed('tnt_a');
    // The locked path still leaves hints meanwhile; they wait for the cool-down.
    hints.remember('tnt_a', head(5));
    hints.remember('tnt_b', head(9));
    expect(hints.take('tnt_a')).toBeUndefined();
    expect(hints.take('tnt_b')?.seq).toBe(9);
    clock.advance(999);
    expect(hints.take('tnt_a')).toBeUndefined();
    clock.advance(1);
    expect(hints.take('tnt_a')?.seq).toBe(5);
  });

  it('keeps the hints of at most maxTenants tenants, dropping the oldest', () => {
    const hints = new HeadHints({ clock: new ManualClock(), maxTenants: 2 });
    hints.remember('tnt_a', head(1));
    hints.remember('tnt_b', head(2));
    hints.remember('tnt_a', head(3));
    hints.remember('tnt_c', head(4));
    expect(hints.take('tnt_b')).toBeUndefined();
    expect(hints.take('tnt_a')?.seq).toBe(3);
    expect(hints.take('tnt_c')?.seq).toBe(4);
  });
});
