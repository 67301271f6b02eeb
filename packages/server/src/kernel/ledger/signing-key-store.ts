import { sql } from 'kysely';

import type { Database } from '../../infra/database/index.js';
import { deriveKey, DecryptionFailedError, openAesGcm, sealAesGcm } from '../../shared/crypto/index.js';
import type { Clock } from '../../shared/ports/index.js';
import { LedgerSigningKeyUnavailableError } from './errors.js';
import {
  exportPrivateKey,
  generateSigningKey,
  importPrivateKey,
  jwkThumbprint,
  LedgerKeyRing,
  type LedgerPublicJwk,
  type LedgerSigningKey,
} from './signing.js';

// Serializes key creation and rotation across processes (first use, `aether init`, rotate).
const KEY_LOCK = 74_657_802;

interface KeyRow {
  key_id: string;
  public_x: string;
  sealed_private_key: Buffer | Uint8Array;
  created_at: Date;
  retired_at: Date | null;
}

/** A published signing key and when it was in use. */
export interface LedgerKeyInfo {
  readonly jwk: LedgerPublicJwk;
  readonly created_at: string;
  readonly retired_at: string | null;
}

export interface SigningKeyStoreDeps {
  readonly db: Database;
  readonly masterKey: Buffer;
  readonly clock: Clock;
  /** How long a process trusts its cached active key before looking for a rotation (default 30 s). */
  readonly refreshMs?: number;
}

/**
 * The platform's Ed25519 signing keys. Private keys are sealed with AES-256-GCM under a key
 * derived from the master key; public keys stay published forever, retired or not, so any old
 * entry still verifies.
 */
export class SigningKeyStore {
  readonly #db: Database;
  readonly #sealKey: Buffer;
  readonly #clock: Clock;
  readonly #refreshMs: number;
  #active: { key: LedgerSigningKey; loadedAtMs: number } | undefined;

  constructor(deps: SigningKeyStoreDeps) {
    this.#db = deps.db;
    this.#sealKey = deriveKey(deps.masterKey, 'ledger-signing');
    this.#clock = deps.clock;
    this.#refreshMs = deps.refreshMs ?? 30_000;
  }

  /**
   * The key loaded last, however old, without touching the database: what an append inside a
   * caller's transaction uses, since on PGlite that transaction holds the only connection.
   */
  current(): LedgerSigningKey | undefined {
    return this.#active?.key;
  }

  /** The key new entries are signed with; created on first use. */
  async active(): Promise<LedgerSigningKey> {
    const nowMs = this.#clock.nowMs();
    if (this.#active && nowMs - this.#active.loadedAtMs < this.#refreshMs) return this.#active.key;
    const key = (await this.#loadActive()) ?? (await this.#create(false));
    this.#active = { key, loadedAtMs: nowMs };
    return key;
  }

  /** Retires the active key and starts signing with a new one. Returns the new key's id. */
  async rotate(): Promise<string> {
    const key = await this.#create(true);
    this.#active = { key, loadedAtMs: this.#clock.nowMs() };
    return key.keyId;
  }

  /** Every key ever used, oldest first. */
  async list(): Promise<LedgerKeyInfo[]> {
    const rows = await sql<KeyRow>`select key_id, public_x, sealed_private_key, created_at, retired_at
        from ledger_signing_keys order by created_at, key_id`.execute(this.#db.kysely);
    return rows.rows.map((row) => ({
      jwk: { kty: 'OKP', crv: 'Ed25519', x: row.public_x, kid: row.key_id, alg: 'EdDSA', use: 'sig' },
      created_at: new Date(row.created_at).toISOString(),
      retired_at: row.retired_at ? new Date(row.retired_at).toISOString() : null,
    }));
  }

  async keyRing(): Promise<LedgerKeyRing> {
    return new LedgerKeyRing((await this.list()).map((info) => info.jwk));
  }

  async #loadActive(): Promise<LedgerSigningKey | undefined> {
    const rows = await sql<KeyRow>`select key_id, public_x, sealed_private_key, created_at, retired_at
        from ledger_signing_keys where retired_at is null`.execute(this.#db.kysely);
    const row = rows.rows[0];
    return row ? this.#open(row) : undefined;
  }

  #open(row: KeyRow): LedgerSigningKey {
    try {
      const pkcs8 = openAesGcm(this.#sealKey, Buffer.from(row.sealed_private_key), `ledger-signing-key:${row.key_id}`);
      const key = importPrivateKey(pkcs8);
      if (key.keyId !== row.key_id || jwkThumbprint(row.public_x) !== row.key_id) throw new TypeError('key id mismatch');
      return key;
    } catch (error) {
      const why = error instanceof DecryptionFailedError ? 'wrong master key or altered row' : String(error);
      throw new LedgerSigningKeyUnavailableError(`ledger signing key ${row.key_id} cannot be opened: ${why}`, { cause: error });
    }
  }

  async #create(retireCurrent: boolean): Promise<LedgerSigningKey> {
    return this.#db.withSystem(async (tx) => {
      await sql`select pg_advisory_xact_lock(${KEY_LOCK})`.execute(tx);
      const now = this.#clock.now();
      if (!retireCurrent) {
        // Another process may have created it while we waited for the lock.
        const existing = await sql<KeyRow>`select key_id, public_x, sealed_private_key, created_at, retired_at
            from ledger_signing_keys where retired_at is null`.execute(tx);
        if (existing.rows[0]) return this.#open(existing.rows[0]);
      } else {
        await sql`update ledger_signing_keys set retired_at = ${now} where retired_at is null`.execute(tx);
      }
      const key = generateSigningKey();
      const sealed = sealAesGcm(this.#sealKey, exportPrivateKey(key), `ledger-signing-key:${key.keyId}`);
      const x = key.publicKey.export({ format: 'jwk' }).x as string;
      await sql`insert into ledger_signing_keys (key_id, public_x, sealed_private_key, created_at)
          values (${key.keyId}, ${x}, ${sealed}, ${now})`.execute(tx);
      return key;
    });
  }
}
