import canonicalize from 'canonicalize';

/**
 * RFC 8785 (JCS) canonical JSON: sorted keys, no whitespace, ECMAScript number form.
 * Hashes and signatures are computed over this form, so it must never change.
 * @throws {TypeError} for values JSON cannot represent (undefined, functions, NaN, Infinity, BigInt,
 * strings with a lone surrogate), naming where in `value` they are.
 */
export function canonicalJson(value: unknown): string {
  assertJsonValue(value);
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

/** Canonical JSON as UTF-8 bytes. */
export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/**
 * The UTF-8 byte length of `value`'s canonical JSON, without building it (for size limits).
 * Canonical JSON serialises strings and numbers exactly as `JSON.stringify` does (RFC 8785
 * §3.2.2) and differs from it only in the order of object members, so for a value that passes
 * the same checks the two have the same length, and the native one is several times faster.
 * @throws {TypeError} as `canonicalJson` does.
 */
export function canonicalJsonByteLength(value: unknown): number {
  assertJsonValue(value);
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Throws a TypeError naming the first place in `value` JSON cannot represent. */
function assertJsonValue(value: unknown): void {
  // The check runs on every ledger entry; the walk that names the bad place (and builds a path
  // string per member to do so) runs only once the quick one has found something.
  if (!isJsonValue(value)) locateNonJson(value, '$');
}

function isJsonValue(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      return value.isWellFormed();
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null || value instanceof Date) return true;
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) {
          if (!isJsonValue(value[index])) return false;
        }
        return true;
      }
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (!key.isWellFormed() || !isJsonValue((value as Record<string, unknown>)[key])) return false;
      }
      return true;
    }
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return false;
  }
}

function locateNonJson(value: unknown, path: string): void {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new TypeError(`${path}: a string with a lone surrogate is not valid JSON`);
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path}: ${String(value)} is not valid JSON`);
      return;
    case 'object':
      if (value === null || value instanceof Date) return;
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) locateNonJson(value[index], `${path}[${String(index)}]`);
        return;
      }
      for (const [key, item] of Object.entries(value)) {
        if (!key.isWellFormed()) throw new TypeError(`${path}: a member name with a lone surrogate is not valid JSON`);
        if (item === undefined) throw new TypeError(`${path}.${key}: undefined is not valid JSON`);
        locateNonJson(item, `${path}.${key}`);
      }
      return;
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      throw new TypeError(`${path}: ${typeof value} is not valid JSON`);
  }
}
