import { randomToken, sha256Hex } from '../../shared/crypto/index.js';

/**
 * Credentials carry their record id, so lookup is by id and the secret is compared by hash:
 * `ak_<ulid>_<secret>` (tenant API key), `aop_<ulid>_<secret>` (operator key),
 * `rt_<ulid>_<secret>` (refresh token). Secrets have 256 bits of entropy, so a plain SHA-256
 * is a sound stored form (no slow hash needed, unlike passwords).
 */
export type CredentialKind = 'api_key' | 'operator_key' | 'refresh_token';

const PREFIX: Record<CredentialKind, string> = { api_key: 'ak', operator_key: 'aop', refresh_token: 'rt' };
const ID_PREFIX: Record<CredentialKind, string> = { api_key: 'key', operator_key: 'op', refresh_token: 'rt' };
const KIND_BY_PREFIX = new Map((Object.entries(PREFIX) as [CredentialKind, string][]).map(([kind, prefix]) => [prefix, kind]));
const PATTERN = /^(ak|aop|rt)_([0-9a-z]{26})_([A-Za-z0-9_-]{43})$/;

export interface ParsedCredential {
  /** The whole credential as presented. */
  readonly token: string;
  readonly kind: CredentialKind;
  readonly id: string;
  readonly secretHash: string;
}

/** Makes a new credential for a record whose id is `<idPrefix>_<ulid>`. */
export function mintCredential(kind: CredentialKind, recordId: string): { token: string; secretHash: string } {
  const ulid = recordId.slice(recordId.indexOf('_') + 1);
  const secret = randomToken(32);
  return { token: `${PREFIX[kind]}_${ulid}_${secret}`, secretHash: sha256Hex(secret) };
}

/** Parses a credential; undefined when it is not one of ours (it may be a JWT). */
export function parseCredential(token: string): ParsedCredential | undefined {
  const match = PATTERN.exec(token);
  if (!match) return undefined;
  const [, prefix, ulid, secret] = match as unknown as [string, string, string, string];
  const kind = KIND_BY_PREFIX.get(prefix);
  if (!kind) return undefined;
  return { token, kind, id: `${ID_PREFIX[kind]}_${ulid}`, secretHash: sha256Hex(secret) };
}

/** The non-secret part of a key, safe to show in lists: `ak_01j9z3ab`. */
export function displayPrefix(kind: CredentialKind, recordId: string): string {
  return `${PREFIX[kind]}_${recordId.slice(recordId.indexOf('_') + 1, recordId.indexOf('_') + 9)}`;
}
