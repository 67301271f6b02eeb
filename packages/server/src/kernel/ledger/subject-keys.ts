import { randomBytes } from 'node:crypto';

import { sql } from 'kysely';

import type { DbTransaction } from '../../infra/database/index.js';
import { canonicalJson } from '../../shared/canonical-json/index.js';
import { DecryptionFailedError, deriveKey, openAesGcm, sealAesGcm } from '../../shared/crypto/index.js';
import type { PersonalMarker } from './format.js';

/** What a sealed personal field reads as once its subject's key is erased. */
export const ERASED_VALUE = '[erased]';
const SEALED_MARK = '$sealed';

function subjectContext(tenantId: string, subjectId: string): string {
  return `ledger-subject:${tenantId}:${subjectId}`;
}

function fieldContext(tenantId: string, subjectId: string, field: string): string {
  return `ledger-personal:${tenantId}:${subjectId}:${field}`;
}

function isSealed(value: unknown): value is { [SEALED_MARK]: string } {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[SEALED_MARK] === 'string';
}

/**
 * Per-data-subject keys for crypto-shredding. Personal payload fields are sealed under a random
 * key per subject, itself sealed under a key derived from the master key; deleting the subject's
 * row makes those fields unreadable forever while the sealed bytes, and the chain, stay intact.
 */
export class SubjectKeys {
  readonly #wrapKey: Buffer;

  constructor(masterKey: Buffer) {
    this.#wrapKey = deriveKey(masterKey, 'ledger-subjects');
  }

  /** Replaces each personal field of `payload` by its sealed form, creating the subject key if needed. */
  async seal(tx: DbTransaction, input: { tenantId: string; personal: PersonalMarker; payload: Readonly<Record<string, unknown>>; now: Date }): Promise<Record<string, unknown>> {
    const { tenantId, personal, payload } = input;
    const key = await this.#keyFor(tx, { tenantId, subjectId: personal.subject_id, now: input.now });
    const sealed: Record<string, unknown> = { ...payload };
    for (const field of personal.fields) {
      const plaintext = Buffer.from(canonicalJson(payload[field]), 'utf8');
      sealed[field] = { [SEALED_MARK]: sealAesGcm(key, plaintext, fieldContext(tenantId, personal.subject_id, field)).toString('base64') };
    }
    return sealed;
  }

  /** Loads the keys of `subjectIds` that still exist. */
  async load(tx: DbTransaction, tenantId: string, subjectIds: readonly string[]): Promise<Map<string, Buffer>> {
    const keys = new Map<string, Buffer>();
    if (subjectIds.length === 0) return keys;
    const rows = await sql<{ subject_id: string; sealed_key: Uint8Array }>`select subject_id, sealed_key from ledger_subject_keys
        where tenant_id = ${tenantId} and subject_id in (${sql.join(subjectIds)})`.execute(tx);
    for (const row of rows.rows) {
      keys.set(row.subject_id, openAesGcm(this.#wrapKey, Buffer.from(row.sealed_key), subjectContext(tenantId, row.subject_id)));
    }
    return keys;
  }

  /** Opens the sealed fields of a payload, or shows them as erased; `redacted` says whether any was. */
  open(input: { tenantId: string; personal: PersonalMarker; payload: Readonly<Record<string, unknown>>; key: Buffer | undefined }): { payload: Record<string, unknown>; redacted: boolean } {
    const { tenantId, personal, payload, key } = input;
    const opened: Record<string, unknown> = { ...payload };
    let redacted = false;
    for (const field of personal.fields) {
      const value = payload[field];
      if (!isSealed(value)) continue;
      try {
        if (!key) throw new DecryptionFailedError('subject key erased');
        const plaintext = openAesGcm(key, Buffer.from(value[SEALED_MARK], 'base64'), fieldContext(tenantId, personal.subject_id, field));
        opened[field] = JSON.parse(plaintext.toString('utf8')) as unknown;
      } catch (error) {
        // Only a missing or replaced key may read as erased; anything else is a real fault.
        if (!(error instanceof DecryptionFailedError)) throw error;
        opened[field] = ERASED_VALUE;
        redacted = true;
      }
    }
    return { payload: opened, redacted };
  }

  /** Deletes the subject's key (crypto-shredding). Returns whether there was one. */
  async erase(tx: DbTransaction, input: { tenantId: string; subjectId: string }): Promise<boolean> {
    const result = await sql`delete from ledger_subject_keys where tenant_id = ${input.tenantId} and subject_id = ${input.subjectId}`.execute(tx);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  async #keyFor(tx: DbTransaction, input: { tenantId: string; subjectId: string; now: Date }): Promise<Buffer> {
    const { tenantId, subjectId, now } = input;
    const existing = await this.load(tx, tenantId, [subjectId]);
    const found = existing.get(subjectId);
    if (found) return found;
    const key = randomBytes(32);
    const sealedKey = sealAesGcm(this.#wrapKey, key, subjectContext(tenantId, subjectId));
    await sql`insert into ledger_subject_keys (tenant_id, subject_id, sealed_key, created_at)
        values (${tenantId}, ${subjectId}, ${sealedKey}, ${now}) on conflict (tenant_id, subject_id) do nothing`.execute(tx);
    // A concurrent writer may have won the insert; read back whichever key is stored.
    const stored = (await this.load(tx, tenantId, [subjectId])).get(subjectId);
    if (!stored) throw new Error(`subject key for ${subjectId} was not stored`);
    return stored;
  }
}
