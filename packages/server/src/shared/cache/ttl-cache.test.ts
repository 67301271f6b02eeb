import { describe, expect, it } from 'vitest';

import { ManualClock } from '../ports/index.js';
import { TtlCache } from './ttl-cache.js';

describe('TtlCache', () => {
  it('serves a value until its TTL passes', () => {
    const clock = new ManualClock();
    const cache = new TtlCache<string>({ clock, ttlMs: 1000 });
    cache.set('a', 'x');
    clock.advance(999);
    expect(cache.get('a')).toBe('x');
    clock.advance(1);
    expect(cache.get('a')).toBeUndefined();
  });

  it('shares one load among concurrent misses (no stampede)', async () => {
    const cache = new TtlCache<number>({ clock: new ManualClock(), ttlMs: 1000 });
    let loads = 0;
    let release: (value: number) => void = () => undefined;
    const load = () => {
      loads += 1;
      return new Promise<number>((resolve) => { release = resolve; });
    };
    const callers = Array.from({ length: 50 }, () => Promise.resolve(cache.getOrLoad('k', load)));
    release(7);
    expect(await Promise.all(callers)).toEqual(Array.from({ length: 50 }, () => 7));
    expect(loads).toBe(1);
    expect(cache.get('k')).toBe(7);
  });

  it('does not cache the result of a load that a delete overtook', async () => {
    const cache = new TtlCache<string>({ clock: new ManualClock(), ttlMs: 1000 });
    let release: (value: string) => void = () => undefined;
    const pending = cache.getOrLoad('key', () => new Promise<string>((resolve) => { release = resolve; }));
    cache.delete('key');
    release('revoked-state');
    expect(await pending).toBe('revoked-state');
    expect(cache.get('key')).toBeUndefined();
  });

  it('does not cache a failed load, so the next call retries', async () => {
    const cache = new TtlCache<string>({ clock: new ManualClock(), ttlMs: 1000 });
    await expect(cache.getOrLoad('k', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await cache.getOrLoad('k', () => Promise.resolve('ok'))).toBe('ok');
  });

  it('drops the oldest entry past its bound', () => {
    const cache = new TtlCache<number>({ clock: new ManualClock(), ttlMs: 1000, maxEntries: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 3]);
  });

  it('returns a hit as a plain value and a miss as a promise', async () => {
    const cache = new TtlCache<number>({ clock: new ManualClock(), ttlMs: 1000 });
    const miss = cache.getOrLoad('k', () => Promise.resolve(1));
    expect(miss).toBeInstanceOf(Promise);
    await miss;
    expect(cache.getOrLoad('k', () => Promise.resolve(2))).toBe(1);
  });
});
