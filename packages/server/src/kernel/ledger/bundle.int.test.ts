import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { describeEachDatabase } from '../../infra/database/testing/index.js';
import { asTenantId, systemContext } from '../../shared/context/index.js';
import { ManualClock, silentLogger } from '../../shared/ports/index.js';
import { verifyBundle, type BundleLine } from './bundle.js';
import { ENTRY_DOMAIN, CHECKPOINT_DOMAIN } from './format.js';
import { generateSigningKey, toPublicJwk } from './signing.js';
import { LedgerBundleInvalidError, LedgerService, ledgerMigrations } from './index.js';

const ctx = systemContext(asTenantId('tnt_bundle'), 'test');

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

describeEachDatabase('LedgerService.exportBundle', ledgerMigrations, (getDb) => {
  let ledger: LedgerService;
  let bundle: string[];

  beforeAll(async () => {
    const clock = new ManualClock();
    ledger = new LedgerService({ db: getDb(), masterKey: randomBytes(32), clock, logger: silentLogger, options: { checkpointEvery: 4 } });
    for (let i = 0; i < 3; i += 1) await ledger.append(ctx, { kind: 'tool.called', payload: { tool: 'grep', i, note: 'naïve ✓' } });
    await ledger.rotateKey();
    for (let i = 3; i < 7; i += 1) await ledger.append(ctx, { kind: 'llm.called', subject: { task_id: 'task_1' }, payload: { i } });
    await ledger.checkpoint(ctx);
    bundle = await collect(ledger.exportBundle(ctx));
  });

  it('exports header, both keys, checkpoints and entries, and verifies offline', async () => {
    const types = bundle.map((line) => (JSON.parse(line) as BundleLine).type);
    expect(types).toEqual(['header', 'key', 'key', 'checkpoint', 'checkpoint', 'entry', 'entry', 'entry', 'entry', 'entry', 'entry', 'entry']);
    expect(await verifyBundle(bundle)).toMatchObject({ tenant_id: 'tnt_bundle', valid: true, checked: 7, checkpoints_checked: 2 });
    const keys = (await ledger.publicKeys()).map((key) => key.jwk);
    expect(await verifyBundle(bundle, { trustedKeys: keys })).toMatchObject({ valid: true });
  });

  it('catches a tampered bundle, and a bundle signed by a key the verifier does not trust', async () => {
    const tampered = bundle.map((line) => line.replace('"i\\":5', '"i\\":6'));
    expect(tampered).not.toEqual(bundle);
    expect(await verifyBundle(tampered)).toMatchObject({ valid: false, first_invalid_seq: 6 });
    const stranger = toPublicJwk(generateSigningKey().publicKey);
    expect(await verifyBundle(bundle, { trustedKeys: [stranger] })).toMatchObject({ valid: false, first_invalid_seq: 1, reason: expect.stringContaining('unknown key id') as unknown });
    const truncated = bundle.slice(0, -2);
    expect(await verifyBundle(truncated)).toMatchObject({ valid: false, first_invalid_seq: 6 });
  });

  it('refuses a bundle it cannot parse', async () => {
    await expect(verifyBundle(['not json'])).rejects.toBeInstanceOf(LedgerBundleInvalidError);
    await expect(verifyBundle([bundle[1] ?? ''])).rejects.toBeInstanceOf(LedgerBundleInvalidError);
    await expect(verifyBundle([])).rejects.toBeInstanceOf(LedgerBundleInvalidError);
    await expect(verifyBundle([bundle[0] ?? '', '{"type":"other"}'])).rejects.toBeInstanceOf(LedgerBundleInvalidError);
  });
});

/**
 * The format claim of docs/ledger-format.md: a third party verifies a bundle with `sha256sum`
 * and `openssl` alone. This test only moves bytes between files (what jq and xxd would do);
 * every hash and signature check is done by the two programs.
 */
describe('ledger bundle verified with openssl and sha256sum only', () => {
  let dir: string;
  let lines: BundleLine[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-bundle-'));
    const { openTestDatabase } = await import('../../infra/database/testing/index.js');
    const db = await openTestDatabase('pglite', ledgerMigrations);
    const ledger = new LedgerService({ db, masterKey: randomBytes(32), clock: new ManualClock(), logger: silentLogger, options: { checkpointEvery: 5 } });
    for (let i = 0; i < 6; i += 1) await ledger.append(ctx, { kind: 'tool.called', payload: { tool: 'grep', i, text: 'ünïcode "quoted"' } });
    lines = (await collect(ledger.exportBundle(ctx))).map((line) => JSON.parse(line) as BundleLine);
    await db.close();
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function sha256sum(bytes: Buffer): string {
    const file = join(dir, `in-${randomBytes(4).toString('hex')}`);
    writeFileSync(file, bytes);
    return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0] ?? '';
  }

  function opensslVerifies(pemFile: string, hashHex: string, signatureBase64: string): boolean {
    const message = join(dir, 'msg.bin');
    const signature = join(dir, 'sig.bin');
    writeFileSync(message, Buffer.from(hashHex, 'hex'));
    writeFileSync(signature, Buffer.from(signatureBase64, 'base64'));
    const result = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', pemFile, '-rawin', '-in', message, '-sigfile', signature], { encoding: 'utf8' });
    return result.status === 0 && result.stdout.includes('Signature Verified Successfully');
  }

  it('checks every entry hash, link and signature, the key ids, and the checkpoint root and signature', () => {
    const pemOf = new Map<string, string>();
    for (const line of lines) {
      if (line.type !== 'key') continue;
      const file = join(dir, `${line.jwk.kid}.pem`);
      writeFileSync(file, line.public_key_pem);
      pemOf.set(line.jwk.kid, file);
      // RFC 7638 thumbprint: SHA-256 of the canonical JWK members, base64url.
      const thumbprint = sha256sum(Buffer.from(`{"crv":"Ed25519","kty":"OKP","x":"${line.jwk.x}"}`));
      expect(Buffer.from(thumbprint, 'hex').toString('base64url')).toBe(line.jwk.kid);
    }
    let prev = '0'.repeat(64);
    const leafHashes: string[] = [];
    for (const line of lines) {
      if (line.type !== 'entry') continue;
      expect(sha256sum(Buffer.concat([Buffer.from(ENTRY_DOMAIN), Buffer.from(line.body, 'utf8')]))).toBe(line.hash);
      expect((JSON.parse(line.body) as { prev_hash: string }).prev_hash).toBe(prev);
      expect(opensslVerifies(pemOf.get(line.key_id) ?? '', line.hash, line.signature)).toBe(true);
      leafHashes.push(sha256sum(Buffer.concat([Buffer.of(0), Buffer.from(line.hash, 'hex')])));
      prev = line.hash;
    }
    expect(leafHashes).toHaveLength(6);
    const mth = (leaves: string[]): string => {
      if (leaves.length === 1) return leaves[0] ?? '';
      let k = 1;
      while (k * 2 < leaves.length) k *= 2;
      return sha256sum(Buffer.concat([Buffer.of(1), Buffer.from(mth(leaves.slice(0, k)), 'hex'), Buffer.from(mth(leaves.slice(k)), 'hex')]));
    };
    const checkpoint = lines.find((line) => line.type === 'checkpoint');
    if (checkpoint?.type !== 'checkpoint') throw new Error('no checkpoint in the bundle');
    expect(sha256sum(Buffer.concat([Buffer.from(CHECKPOINT_DOMAIN), Buffer.from(checkpoint.body, 'utf8')]))).toBe(checkpoint.hash);
    expect((JSON.parse(checkpoint.body) as { root_hash: string }).root_hash).toBe(mth(leafHashes.slice(0, checkpoint.tree_size)));
    expect(opensslVerifies(pemOf.get(checkpoint.key_id) ?? '', checkpoint.hash, checkpoint.signature)).toBe(true);
  });

  it('makes openssl and sha256sum reject an altered entry or a swapped signature', () => {
    const entries = lines.filter((line) => line.type === 'entry');
    const first = entries[0];
    const second = entries[1];
    if (!first || !second) throw new Error('entries missing');
    const [pem] = lines.flatMap((line) => (line.type === 'key' ? [join(dir, `${line.jwk.kid}.pem`)] : []));
    const alteredBody = first.body.replace('"i":0', '"i":9');
    const alteredHash = sha256sum(Buffer.concat([Buffer.from(ENTRY_DOMAIN), Buffer.from(alteredBody)]));
    expect(alteredHash).not.toBe(first.hash);
    expect(opensslVerifies(pem ?? '', alteredHash, first.signature)).toBe(false);
    expect(opensslVerifies(pem ?? '', first.hash, second.signature)).toBe(false);
    expect(createHash('sha256').update(ENTRY_DOMAIN).update(first.body).digest('hex')).toBe(first.hash);
  });
});
