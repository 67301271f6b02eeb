import { describe, expect, it } from 'vitest';

import { canonicalJson, canonicalJsonByteLength } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys and drops whitespace (RFC 8785 §3.2.3)', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}}');
  });

  it('writes numbers in their shortest ECMAScript form (RFC 8785 §3.2.2.3)', () => {
    expect(canonicalJson([1e21, 1e-7, 0.1, -0, 100])).toBe('[1e+21,1e-7,0.1,0,100]');
  });

  it('sorts keys by UTF-16 code units', () => {
    expect(canonicalJson({ '\u20ac': 1, '\r': 2, '1': 3, é: 4 })).toBe('{"\\r":2,"1":3,"é":4,"€":1}');
  });

  it('refuses values JSON cannot represent, naming where they are', () => {
    for (const measure of [canonicalJson, canonicalJsonByteLength]) {
      expect(() => measure({ a: { b: Number.NaN } })).toThrow('$.a.b');
      expect(() => measure({ a: undefined })).toThrow('$.a');
      expect(() => measure({ a: [1, 2, () => 3] })).toThrow('$.a[2]: function');
      expect(() => measure({ a: [1, , 3] })).toThrow('$.a[1]: undefined');
      expect(() => measure({ a: { b: 'x\ud800y' } })).toThrow('$.a.b: a string with a lone surrogate');
      expect(() => measure({ ['k\udc00']: 1 })).toThrow('$: a member name with a lone surrogate');
      expect(() => measure(10n)).toThrow('$: bigint');
    }
  });

  it('measures the canonical form without building it, byte for byte, on varied values', () => {
    // A seeded generator of nested values: members in any order, multi-byte and escaped
    // characters, numbers in every ECMAScript form, dates.
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const strings = ['', 'a', 'é', '€uro', '😀', 'line\nbreak', 'quote"and\\', '\u0001ctl', 'tab\there', '\u2028sep'];
    const numbers = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 123456789012345680000, -42.5];
    const value = (depth: number): unknown => {
      const roll = random();
      if (depth > 3 || roll < 0.45) return pick<unknown>([pick(strings), pick(numbers), true, false, null, new Date(Math.floor(random() * 2e12))]);
      if (roll < 0.7) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, () => [pick(strings) + pick(strings), value(depth + 1)]));
    };
    for (let i = 0; i < 500; i++) {
      const sample = value(0);
      expect(canonicalJsonByteLength(sample)).toBe(Buffer.byteLength(canonicalJson(sample), 'utf8'));
    }
  });
});
