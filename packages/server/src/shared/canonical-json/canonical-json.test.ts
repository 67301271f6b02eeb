import { describe, expect, it } from 'vitest';

import { canonicalJson } from './canonical-json.js';

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
    expect(() => canonicalJson({ a: { b: Number.NaN } })).toThrow('$.a.b');
    expect(() => canonicalJson({ a: undefined })).toThrow('$.a');
  });
});
