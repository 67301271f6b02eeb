import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

import { canonicalJson } from '../../shared/canonical-json/index.js';

/** A public signing key as published at `GET /v1/ledger/keys` (RFC 8037 OKP JWK). */
export interface LedgerPublicJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

/** An Ed25519 key pair held in memory; the private half never leaves the key store sealed form. */
export interface LedgerSigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** RFC 7638 JWK thumbprint (base64url SHA-256 of the canonical required members): the key id. */
export function jwkThumbprint(x: string): string {
  return createHash('sha256').update(canonicalJson({ crv: 'Ed25519', kty: 'OKP', x })).digest('base64url');
}

/** The raw 32-byte public key of an Ed25519 key object, base64url (the JWK `x`). */
export function publicKeyX(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 public key');
  return jwk.x;
}

export function toPublicJwk(publicKey: KeyObject): LedgerPublicJwk {
  const x = publicKeyX(publicKey);
  return { kty: 'OKP', crv: 'Ed25519', x, kid: jwkThumbprint(x), alg: 'EdDSA', use: 'sig' };
}

/** Builds a public key object from a published JWK. */
export function publicKeyFromJwk(jwk: Pick<LedgerPublicJwk, 'x'>): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
}

export function generateSigningKey(): LedgerSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { keyId: jwkThumbprint(publicKeyX(publicKey)), privateKey, publicKey };
}

/** PKCS#8 DER of the private key, the form that is sealed at rest. */
export function exportPrivateKey(key: LedgerSigningKey): Buffer {
  return key.privateKey.export({ format: 'der', type: 'pkcs8' });
}

export function importPrivateKey(pkcs8: Buffer): LedgerSigningKey {
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return { keyId: jwkThumbprint(publicKeyX(publicKey)), privateKey, publicKey };
}

/** Ed25519 signature (base64) over the raw bytes of a hash. */
export function signHash(key: LedgerSigningKey, hash: Buffer): string {
  return sign(null, hash, key.privateKey).toString('base64');
}

export function verifyHashSignature(publicKey: KeyObject, hash: Buffer, signatureBase64: string): boolean {
  const signature = Buffer.from(signatureBase64, 'base64');
  if (signature.length !== 64) return false;
  return verify(null, hash, publicKey, signature);
}

/** The public keys a verifier trusts, by key id. */
export class LedgerKeyRing {
  readonly #keys = new Map<string, KeyObject>();

  constructor(jwks: readonly Pick<LedgerPublicJwk, 'x' | 'kid'>[] = []) {
    for (const jwk of jwks) this.add(jwk);
  }

  /** Adds a key, refusing a JWK whose `kid` is not the thumbprint of its `x`. */
  add(jwk: Pick<LedgerPublicJwk, 'x' | 'kid'>): void {
    if (jwkThumbprint(jwk.x) !== jwk.kid) throw new TypeError(`key id ${jwk.kid} is not the thumbprint of its key`);
    this.#keys.set(jwk.kid, publicKeyFromJwk(jwk));
  }

  get(keyId: string): KeyObject | undefined {
    return this.#keys.get(keyId);
  }

  ids(): string[] {
    return [...this.#keys.keys()];
  }
}
