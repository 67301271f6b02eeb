import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { DecryptionFailedError, deriveKey, openAesGcm, sealAesGcm } from './envelope.js';

const key = randomBytes(32);

describe('sealAesGcm / openAesGcm', () => {
  it('round-trips a plaintext under the same key and context', () => {
    const sealed = sealAesGcm(key, Buffer.from('secret value'), 'secret:tnt_a:OPENAI');
    expect(openAesGcm(key, sealed, 'secret:tnt_a:OPENAI').toString()).toBe('secret value');
  });

  it('refuses a ciphertext moved to another context', () => {
    const sealed = sealAesGcm(key, Buffer.from('x'), 'secret:tnt_a:A');
    expect(() => openAesGcm(key, sealed, 'secret:tnt_b:A')).toThrow(DecryptionFailedError);
  });

  it('refuses an altered ciphertext and a wrong key', () => {
    const sealed = sealAesGcm(key, Buffer.from('hello'), 'c');
    const altered = Buffer.from(sealed);
    altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 1;
    expect(() => openAesGcm(key, altered, 'c')).toThrow(DecryptionFailedError);
    expect(() => openAesGcm(randomBytes(32), sealed, 'c')).toThrow(DecryptionFailedError);
  });

  it('never produces the same ciphertext twice', () => {
    expect(sealAesGcm(key, Buffer.from('a'), 'c').equals(sealAesGcm(key, Buffer.from('a'), 'c'))).toBe(false);
  });
});

describe('deriveKey', () => {
  it('derives different keys for different purposes, deterministically', () => {
    expect(deriveKey(key, 'jwt').equals(deriveKey(key, 'jwt'))).toBe(true);
    expect(deriveKey(key, 'jwt').equals(deriveKey(key, 'secrets'))).toBe(false);
  });
});
