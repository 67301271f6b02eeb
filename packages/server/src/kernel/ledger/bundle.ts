import { errorMessage } from '../../shared/errors/index.js';
import { LedgerBundleInvalidError } from './errors.js';
import type { SignedCheckpoint, SignedEntry } from './format.js';
import { LedgerKeyRing, publicKeyFromJwk, type LedgerPublicJwk } from './signing.js';
import type { LedgerKeyInfo } from './signing-key-store.js';
import { ChainVerifier, type VerifyResult } from './verify.js';

/** Name and version of the export format (docs/ledger-format.md). */
export const BUNDLE_FORMAT = 'aether-ledger-bundle';
export const BUNDLE_VERSION = 1;

export interface BundleHeader {
  readonly type: 'header';
  readonly format: typeof BUNDLE_FORMAT;
  readonly version: number;
  readonly tenant_id: string;
  readonly exported_at: string;
  readonly head: { readonly seq: number; readonly hash: string };
}

export type BundleLine =
  | BundleHeader
  | { readonly type: 'key'; readonly jwk: LedgerPublicJwk; readonly public_key_pem: string; readonly created_at: string; readonly retired_at: string | null }
  | ({ readonly type: 'checkpoint' } & SignedCheckpoint)
  | ({ readonly type: 'entry' } & SignedEntry);

export interface BundleSource {
  readonly tenantId: string;
  readonly exportedAt: Date;
  readonly head: { readonly seq: number; readonly hash: string };
  readonly keys: readonly LedgerKeyInfo[];
  readonly checkpoints: readonly SignedCheckpoint[];
  readonly entries: AsyncIterable<SignedEntry> | Iterable<SignedEntry>;
}

/** Writes a bundle as JSON lines: header, keys, checkpoints, then entries in seq order. */
export async function* writeBundle(source: BundleSource): AsyncGenerator<string> {
  const header: BundleHeader = { type: 'header', format: BUNDLE_FORMAT, version: BUNDLE_VERSION, tenant_id: source.tenantId, exported_at: source.exportedAt.toISOString(), head: source.head };
  yield `${JSON.stringify(header)}\n`;
  for (const key of source.keys) {
    const pem = publicKeyFromJwk(key.jwk).export({ format: 'pem', type: 'spki' }).toString();
    yield `${JSON.stringify({ type: 'key', jwk: key.jwk, public_key_pem: pem, created_at: key.created_at, retired_at: key.retired_at })}\n`;
  }
  for (const checkpoint of source.checkpoints) yield `${JSON.stringify({ type: 'checkpoint', ...checkpoint })}\n`;
  for await (const entry of source.entries) {
    yield `${JSON.stringify({ type: 'entry', seq: entry.seq, body: entry.body, hash: entry.hash, key_id: entry.key_id, signature: entry.signature })}\n`;
  }
}

export interface BundleVerifyOptions {
  /**
   * Keys obtained independently of the bundle (e.g. from `GET /v1/ledger/keys` or a pinned
   * copy). When given, a key in the bundle that is not among them is refused, so a forger
   * cannot ship their own key with their own signatures.
   */
  readonly trustedKeys?: readonly Pick<LedgerPublicJwk, 'kid' | 'x'>[];
}

function parseLine(text: string, lineNumber: number): BundleLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LedgerBundleInvalidError(`line ${String(lineNumber)} is not JSON`, lineNumber);
  }
  const type = (value as { type?: unknown }).type;
  if (type !== 'header' && type !== 'key' && type !== 'checkpoint' && type !== 'entry') {
    throw new LedgerBundleInvalidError(`line ${String(lineNumber)} has an unknown type`, lineNumber);
  }
  return value as BundleLine;
}

/**
 * Verifies a bundle offline: the header first, then keys, checkpoints and entries, as written
 * by `writeBundle`. Streams entries through `ChainVerifier`, so memory stays flat.
 * @throws {LedgerBundleInvalidError} for a bundle that cannot be parsed.
 */
export async function verifyBundle(lines: AsyncIterable<string> | Iterable<string>, options: BundleVerifyOptions = {}): Promise<VerifyResult & { tenant_id: string }> {
  let header: BundleHeader | undefined;
  const keys = new LedgerKeyRing();
  const trusted = options.trustedKeys ? new Set(options.trustedKeys.map((key) => `${key.kid}:${key.x}`)) : undefined;
  const checkpoints: SignedCheckpoint[] = [];
  let verifier: ChainVerifier | undefined;
  let lineNumber = 0;
  for await (const raw of lines) {
    lineNumber += 1;
    const text = raw.trim();
    if (text === '') continue;
    const line = parseLine(text, lineNumber);
    if (!header) {
      if (line.type !== 'header' || line.format !== BUNDLE_FORMAT || line.version !== BUNDLE_VERSION) {
        throw new LedgerBundleInvalidError(`line ${String(lineNumber)}: a bundle starts with a ${BUNDLE_FORMAT} v${String(BUNDLE_VERSION)} header`, lineNumber);
      }
      header = line;
      continue;
    }
    switch (line.type) {
      case 'header':
        throw new LedgerBundleInvalidError(`line ${String(lineNumber)}: a second header`, lineNumber);
      case 'key':
        if (verifier) throw new LedgerBundleInvalidError(`line ${String(lineNumber)}: keys must come before entries`, lineNumber);
        if (trusted && !trusted.has(`${line.jwk.kid}:${line.jwk.x}`)) continue;
        try {
          keys.add(line.jwk);
        } catch (error) {
          throw new LedgerBundleInvalidError(`line ${String(lineNumber)}: ${errorMessage(error)}`, lineNumber);
        }
        break;
      case 'checkpoint':
        if (verifier) throw new LedgerBundleInvalidError(`line ${String(lineNumber)}: checkpoints must come before entries`, lineNumber);
        checkpoints.push({ tree_size: line.tree_size, body: line.body, hash: line.hash, key_id: line.key_id, signature: line.signature });
        break;
      case 'entry':
        verifier ??= new ChainVerifier({ tenantId: header.tenant_id, keys, checkpoints });
        verifier.push({ seq: line.seq, body: line.body, hash: line.hash, key_id: line.key_id, signature: line.signature });
        break;
    }
  }
  if (!header) throw new LedgerBundleInvalidError('the bundle is empty', 0);
  verifier ??= new ChainVerifier({ tenantId: header.tenant_id, keys, checkpoints });
  return { tenant_id: header.tenant_id, ...verifier.finish({ head: header.head }) };
}
