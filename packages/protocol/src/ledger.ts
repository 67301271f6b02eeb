import { z } from 'zod';

import { isoTimestamp } from './common.js';
import { defineRoute } from './contract.js';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const refName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'snake_case reference name');
const refValue = z.string().min(1).max(256);
const runId = z.string().min(1).max(256);

export const ledgerActorSchema = z.object({ type: z.string(), id: z.string() });

export const ledgerEntrySchema = z.object({
  seq: z.number().int(),
  time: isoTimestamp,
  kind: z.string(),
  actor: ledgerActorSchema,
  subject: z.record(z.string(), z.string()),
  payload: z.record(z.string(), z.unknown()),
  personal: z.object({ subject_id: z.string(), fields: z.array(z.string()) }).nullable(),
  /** True when a personal field reads as "[erased]" because its subject was erased. */
  redacted: z.boolean(),
  prev_hash: hex64,
  hash: hex64,
  key_id: z.string(),
  signature: z.string(),
});
export type LedgerEntry = z.infer<typeof ledgerEntrySchema>;

export const ledgerCheckpointSchema = z.object({
  tree_size: z.number().int(),
  root_hash: hex64,
  last_hash: hex64,
  time: isoTimestamp,
  hash: hex64,
  key_id: z.string(),
  signature: z.string(),
});
export type LedgerCheckpoint = z.infer<typeof ledgerCheckpointSchema>;

export const appendLedgerEntryRequestSchema = z.strictObject({
  kind: z.string().min(3).max(128),
  subject: z.record(refName, refValue).optional(),
  payload: z.record(z.string(), z.unknown()),
  /** Payload fields holding personal data of `subject_id`; stored encrypted, erasable. */
  personal: z.strictObject({ subject_id: refValue, fields: z.array(z.string().min(1).max(128)).min(1).max(64) }).optional(),
});

export const ledgerReceiptSchema = z.object({ seq: z.number().int(), hash: hex64 });

export const listLedgerEntriesQuerySchema = z.strictObject({
  kind: z.string().max(128).optional(),
  actor: z.string().max(256).optional(),
  /** `name:value`, e.g. `task_id:task_01J…`. */
  subject: z.string().regex(/^[a-z][a-z0-9_]{0,63}:.{1,256}$/, 'expected name:value').optional(),
  from: isoTimestamp.optional(),
  to: isoTimestamp.optional(),
  cursor: z.string().regex(/^\d+$/).max(20).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const ledgerProofSchema = z.object({
  seq: z.number().int(),
  leaf_index: z.number().int(),
  tree_size: z.number().int(),
  leaf_hash: hex64,
  path: z.array(hex64),
  root_hash: hex64,
  checkpoint: ledgerCheckpointSchema.nullable(),
});

export const ledgerConsistencySchema = z.object({
  old_size: z.number().int(),
  new_size: z.number().int(),
  old_root: hex64,
  new_root: hex64,
  path: z.array(hex64),
});

export const verifyLedgerRequestSchema = z.strictObject({
  from_seq: z.number().int().min(1).optional(),
  to_seq: z.number().int().min(1).optional(),
});

export const verifyLedgerResponseSchema = z.object({
  valid: z.boolean(),
  checked: z.number().int(),
  checkpoints_checked: z.number().int(),
  first_invalid_seq: z.number().int().nullable(),
  reason: z.string().nullable(),
});

export const runStepSchema = z.object({
  step: z.number().int(),
  seq: z.number(),
  time: isoTimestamp,
  kind: z.string(),
  actor: ledgerActorSchema,
  subject: z.record(z.string(), z.string()),
  payload: z.record(z.string(), z.unknown()),
  tool: z.string().nullable(),
  substituted: z.boolean().optional(),
});

export const runStateSchema = z.object({
  status: z.string().nullable(),
  steps: z.number().int(),
  started_at: z.string().nullable(),
  updated_at: z.string().nullable(),
  kinds: z.record(z.string(), z.number()),
  tools: z.record(z.string(), z.number()),
  llm_calls: z.number().int(),
  cost_usd: z.number(),
  last_output: z.unknown(),
  data: z.record(z.string(), z.unknown()),
  errors: z.array(z.object({ step: z.number().int(), kind: z.string(), message: z.string() })),
});

export const replayRequestSchema = z.strictObject({ run_id: runId });
export const replayResponseSchema = z.object({ run_id: z.string(), steps: z.array(runStepSchema), state: runStateSchema });

export const substitutionSchema = z.strictObject({
  step: z.number().int().min(1).optional(),
  seq: z.number().int().min(1).optional(),
  kind: z.string().max(128).optional(),
  tool: z.string().max(256).optional(),
  occurrence: z.number().int().min(1).optional(),
  output: z.unknown(),
});

export const simulateRequestSchema = z.strictObject({ run_id: runId, substitutions: z.array(substitutionSchema).max(100) });
export const simulateResponseSchema = z.object({
  run_id: z.string(),
  steps: z.array(runStepSchema),
  state: runStateSchema,
  recorded_state: runStateSchema,
  substituted_steps: z.array(z.number().int()),
  changed_fields: z.array(z.string()),
  side_effects: z.literal(0),
});

export const debugRequestSchema = z.strictObject({
  run_id: runId,
  step: z.number().int().min(0).optional(),
  breakpoints: z.strictObject({ kinds: z.array(z.string().max(128)).max(50).optional(), tools: z.array(z.string().max(256)).max(50).optional() }).optional(),
});
export const debugResponseSchema = z.object({
  run_id: z.string(),
  total_steps: z.number().int(),
  step: z.number().int(),
  current: runStepSchema.nullable(),
  state: runStateSchema,
  breakpoints: z.array(z.number().int()),
  previous_breakpoint: z.number().int().nullable(),
  next_breakpoint: z.number().int().nullable(),
});

export const runDiffSchema = z.object({
  a: z.string(),
  b: z.string(),
  identical: z.boolean(),
  steps_a: z.number().int(),
  steps_b: z.number().int(),
  first_divergence: z.object({ step_a: z.number().int().nullable(), step_b: z.number().int().nullable(), reason: z.string() }).nullable(),
  steps: z.array(z.object({
    op: z.enum(['same', 'changed', 'only_a', 'only_b']),
    step_a: z.number().int().nullable(),
    step_b: z.number().int().nullable(),
    kind: z.string(),
    tool: z.string().nullable(),
    changes: z.array(z.object({ field: z.string(), a: z.unknown(), b: z.unknown() })).optional(),
  })),
  counts: z.object({ same: z.number().int(), changed: z.number().int(), only_a: z.number().int(), only_b: z.number().int() }),
});

export const ledgerKeySchema = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string(),
  kid: z.string(),
  alg: z.literal('EdDSA'),
  use: z.literal('sig'),
  created_at: isoTimestamp,
  retired_at: isoTimestamp.nullable(),
});

export const ledgerRoutes = {
  appendLedgerEntry: defineRoute({
    method: 'POST', path: '/v1/ledger/entries', tag: 'ledger', successStatus: 201,
    summary: 'Append an external audit event to the tenant\'s signed ledger; answers once it is committed',
    body: appendLedgerEntryRequestSchema, response: ledgerReceiptSchema,
    exampleBody: { kind: 'external.deployed', subject: { task_id: 'task_1' }, payload: { service: 'api', version: '1.4.2' } },
  }),
  listLedgerEntries: defineRoute({
    method: 'GET', path: '/v1/ledger/entries', tag: 'ledger',
    summary: 'List ledger entries, oldest first (filters: kind, actor, subject name:value, time range; cursor pagination)',
    query: listLedgerEntriesQuerySchema, response: z.object({ items: z.array(ledgerEntrySchema), next_cursor: z.string().nullable() }),
  }),
  getLedgerProof: defineRoute({
    method: 'GET', path: '/v1/ledger/entries/{seq}/proof', tag: 'ledger',
    summary: 'RFC 9162 inclusion proof of an entry (against the latest signed checkpoint that covers it by default)',
    params: z.strictObject({ seq: z.coerce.number().int().min(1) }),
    query: z.strictObject({ tree_size: z.coerce.number().int().min(1).optional() }),
    response: ledgerProofSchema,
  }),
  getLedgerConsistency: defineRoute({
    method: 'GET', path: '/v1/ledger/consistency', tag: 'ledger',
    summary: 'RFC 9162 consistency proof that the tree of old_size entries is a prefix of the tree of new_size',
    query: z.strictObject({ old_size: z.coerce.number().int().min(1), new_size: z.coerce.number().int().min(1) }),
    response: ledgerConsistencySchema,
  }),
  listLedgerCheckpoints: defineRoute({
    method: 'GET', path: '/v1/ledger/checkpoints', tag: 'ledger',
    summary: 'Signed checkpoints (tree heads), oldest first',
    query: z.strictObject({ cursor: z.string().regex(/^\d+$/).max(20).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() }),
    response: z.object({ items: z.array(ledgerCheckpointSchema), next_cursor: z.string().nullable() }),
  }),
  verifyLedger: defineRoute({
    method: 'POST', path: '/v1/ledger/verify', tag: 'ledger',
    summary: 'Verify the whole chain or a range: hashes, links, signatures, keys, Merkle roots at checkpoints',
    body: verifyLedgerRequestSchema, response: verifyLedgerResponseSchema,
    exampleBody: {},
  }),
  replayRun: defineRoute({
    method: 'POST', path: '/v1/ledger/replay', tag: 'ledger',
    summary: 'Rebuild the timeline and state of a task or workflow from its ledger entries',
    body: replayRequestSchema, response: replayResponseSchema,
    exampleBody: { run_id: 'task_1' },
  }),
  simulateRun: defineRoute({
    method: 'POST', path: '/v1/ledger/simulate', tag: 'ledger',
    summary: 'Re-run a recorded run against its recorded outputs with substitutions; runs nothing, appends nothing',
    body: simulateRequestSchema, response: simulateResponseSchema,
    exampleBody: { run_id: 'task_1', substitutions: [{ tool: 'search', output: [] }] },
  }),
  debugRun: defineRoute({
    method: 'POST', path: '/v1/ledger/debug', tag: 'ledger',
    summary: 'Step through a recorded run: state at step N, breakpoints on kind or tool',
    body: debugRequestSchema, response: debugResponseSchema,
    exampleBody: { run_id: 'task_1', breakpoints: { kinds: ['llm.*'] } },
  }),
  diffRuns: defineRoute({
    method: 'GET', path: '/v1/ledger/diff/{a}/{b}', tag: 'ledger',
    summary: 'Align two recorded runs step by step and report where and how they diverge',
    params: z.strictObject({ a: runId, b: runId }), response: runDiffSchema,
  }),
  listLedgerKeys: defineRoute({
    method: 'GET', path: '/v1/ledger/keys', tag: 'ledger',
    summary: 'Every ledger signing key ever used, as a JWK set (RFC 8037 Ed25519)',
    response: z.object({ keys: z.array(ledgerKeySchema) }),
  }),
  exportLedger: defineRoute({
    method: 'GET', path: '/v1/ledger/export', tag: 'ledger',
    summary: 'The tenant\'s ledger as an export bundle (JSON Lines text, see docs/ledger-format.md)',
    response: z.object({ bundle: z.string() }),
  }),
} as const;
