/**
 * @module kernel/ledger
 * The signed, tamper-evident ledger (spec §14): one SHA-256 hash chain per tenant, Ed25519
 * signatures, RFC 9162 Merkle checkpoints and proofs, crypto-shredding of personal fields,
 * verification, export bundles, and replay/simulate/debug/diff over recorded runs.
 * Owns tables: ledger_entries, ledger_heads, ledger_checkpoints, ledger_subject_keys,
 * ledger_erasures, ledger_signing_keys. Depends on: shared, infra/database, infra/audit.
 */
export { LedgerService, type EntryFilter, type InclusionProofView, type LedgerOptions, type LedgerServiceDeps } from './ledger-service.js';
export { LedgerCheckpointer, type LedgerCheckpointerDeps } from './checkpointer.js';
export { ledgerMigrations } from './migrations.js';
export { ledgerRoutes, type LedgerRoutesDeps } from './routes.js';
export { verifyBundle, writeBundle, BUNDLE_FORMAT, BUNDLE_VERSION, type BundleLine, type BundleVerifyOptions } from './bundle.js';
export { diffRuns, type RunDiff, type StepDiff } from './run-diff.js';
export {
  debugRun,
  genericRunReducer,
  replayRun,
  simulateRun,
  type Breakpoints,
  type DebugResult,
  type RunEntry,
  type RunReducer,
  type RunState,
  type RunStep,
  type SimulationResult,
  type Substitution,
} from './run-replay.js';
export {
  LedgerBundleInvalidError,
  LedgerEntryInvalidError,
  LedgerKindInvalidError,
  LedgerKindUnknownError,
  LedgerPayloadTooLargeError,
  LedgerProofNotFoundError,
  LedgerSigningKeyUnavailableError,
} from './errors.js';
export { DEFAULT_KIND_NAMESPACES } from './kinds.js';
export { verifySignaturesParallel } from './parallel-signatures.js';
export { verifyChainParallel } from './parallel-verify.js';
export type { LedgerCheckpointView, LedgerEntryView } from './entry-view.js';
export type { LedgerKeyInfo } from './signing-key-store.js';
export type { VerifyResult } from './verify.js';
export { ERASED_VALUE } from './subject-keys.js';
export { signCheckpoint, signEntry, type CheckpointFields, type EntryFields } from './entry.js';
export {
  CHECKPOINT_DOMAIN,
  ENTRY_DOMAIN,
  GENESIS_HASH,
  checkpointHashBytes,
  entryHashBytes,
  type CheckpointBody,
  type EntryBody,
  type SignedCheckpoint,
  type SignedEntry,
} from './format.js';
export { MerkleFrontier, MerkleTree, merkleLeafHash, merkleNodeHash, verifyConsistencyProof, verifyInclusionProof } from './merkle.js';
export { generateSigningKey, jwkThumbprint, LedgerKeyRing, toPublicJwk, type LedgerPublicJwk, type LedgerSigningKey } from './signing.js';
export { ChainVerifier, verifyChain, type ChainVerifierOptions } from './verify.js';
