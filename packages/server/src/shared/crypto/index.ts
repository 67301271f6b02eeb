/**
 * @module shared/crypto
 * AES-256-GCM envelopes bound to a context, HKDF key derivation and token helpers, all on node:crypto.
 */
export {
  DecryptionFailedError,
  deriveKey,
  openAesGcm,
  randomToken,
  safeEqual,
  sealAesGcm,
  sha256Hex,
} from './envelope.js';
