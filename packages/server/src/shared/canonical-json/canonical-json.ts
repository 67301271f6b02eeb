import canonicalize from 'canonicalize';

/**
 * RFC 8785 (JCS) canonical JSON: sorted keys, no whitespace, ECMAScript number form.
 * Hashes and signatures are computed over this form, so it must never change.
 * @throws {TypeError} for values JSON cannot represent (undefined, functions, NaN, Infinity, BigInt).
 */
export function canonicalJson(value: unknown): string {
  assertJsonValue(value, '$');
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

/** Canonical JSON as UTF-8 bytes. */
export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

function assertJsonValue(value: unknown, path: string): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path}: ${String(value)} is not valid JSON`);
      return;
    case 'object':
      if (value === null) return;
      if (Array.isArray(value)) {
        value.forEach((item, index) => { assertJsonValue(item, `${path}[${String(index)}]`); });
        return;
      }
      if (value instanceof Date) return;
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) throw new TypeError(`${path}.${key}: undefined is not valid JSON`);
        assertJsonValue(item, `${path}.${key}`);
      }
      return;
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      throw new TypeError(`${path}: ${typeof value} is not valid JSON`);
  }
}
