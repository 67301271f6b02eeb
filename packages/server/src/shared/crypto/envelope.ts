import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual, hash } from 'node:crypto';

import { AppError } from '../errors/index.js';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Ciphertext that fails authentication: wrong key, wrong context, or altered bytes. */
export class DecryptionFailedError extends AppError {
  readonly code = 'DECRYPTION_FAILED';
  readonly kind = 'internal';
}

function assertKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new TypeError(`AES-256-GCM needs a 32-byte key, got ${String(key.length)}`);
}

/**
 * Encrypts with AES-256-GCM. `context` is bound as additional authenticated data, so a
 * ciphertext moved to another row or purpose fails to decrypt. Layout:
 * `version(1) ‖ iv(12) ‖ tag(16) ‖ ciphertext`.
 */
export function sealAesGcm(key: Buffer, plaintext: Buffer, context: string): Buffer {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), body]);
}

/** Reverses `sealAesGcm`. @throws {DecryptionFailedError} when authentication fails. */
export function openAesGcm(key: Buffer, sealed: Buffer, context: string): Buffer {
  assertKey(key);
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
    throw new DecryptionFailedError('ciphertext is malformed or of an unknown version');
  }
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const body = sealed.subarray(1 + IV_BYTES + TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch (error) {
    throw new DecryptionFailedError('ciphertext failed authentication', { cause: error });
  }
}

/** Derives an independent 32-byte key for one purpose from the master key (HKDF-SHA256). */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  assertKey(masterKey);
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `aether:${purpose}`, KEY_BYTES));
}

/** SHA-256 hex digest of a UTF-8 string. */
export function sha256Hex(text: string): string {
  // The one-shot form: it hashes every credential on the request path, and skips the Hash object.
  return hash('sha256', text, 'hex');
}

/** Constant-time comparison of two hex or ASCII strings. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A random URL-safe token with `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
