import { isDeepStrictEqual } from 'node:util';

import { toSteps, type RunEntry, type RunStep } from './run-replay.js';

export type DiffOp = 'same' | 'changed' | 'only_a' | 'only_b';

export interface StepDiff {
  readonly op: DiffOp;
  readonly step_a: number | null;
  readonly step_b: number | null;
  readonly kind: string;
  readonly tool: string | null;
  /** Payload fields that differ, for `changed`. */
  readonly changes?: { field: string; a: unknown; b: unknown }[];
}

export interface RunDiff {
  readonly identical: boolean;
  readonly steps_a: number;
  readonly steps_b: number;
  readonly first_divergence: { readonly step_a: number | null; readonly step_b: number | null; readonly reason: string } | null;
  readonly steps: StepDiff[];
  readonly counts: Readonly<Record<DiffOp, number>>;
}

// Past this many cells the quadratic alignment gives way to a linear, position-by-position one.
const MAX_LCS_CELLS = 4_000_000;
// Fields that differ between any two runs and say nothing about their behaviour.
const VOLATILE_FIELDS = new Set(['duration_ms', 'latency_ms', 'started_at', 'ended_at', 'request_id', 'trace_id']);

const signature = (step: RunStep): string => `${step.kind}\u0000${step.tool ?? ''}`;

function payloadChanges(a: RunStep, b: RunStep): { field: string; a: unknown; b: unknown }[] {
  const fields = [...new Set([...Object.keys(a.payload), ...Object.keys(b.payload)])].filter((field) => !VOLATILE_FIELDS.has(field)).sort();
  return fields.filter((field) => !isDeepStrictEqual(a.payload[field], b.payload[field])).map((field) => ({ field, a: a.payload[field], b: b.payload[field] }));
}

/** Pairs of aligned indexes by longest common subsequence of step signatures (kind + tool). */
function align(a: readonly RunStep[], b: readonly RunStep[]): [number | null, number | null][] {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_LCS_CELLS) {
    return Array.from({ length: Math.max(n, m) }, (_, i) => [i < n ? i : null, i < m ? i : null]);
  }
  const sa = a.map(signature);
  const sb = b.map(signature);
  const table = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number): number => table[i * (m + 1) + j] ?? 0;
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      table[i * (m + 1) + j] = sa[i] === sb[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const pairs: [number | null, number | null][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (sa[i] === sb[j]) pairs.push([i++, j++]);
    else if (at(i + 1, j) >= at(i, j + 1)) pairs.push([i++, null]);
    else pairs.push([null, j++]);
  }
  while (i < n) pairs.push([i++, null]);
  while (j < m) pairs.push([null, j++]);
  return pairs;
}

/** Aligns two recorded runs step by step and reports where and how they diverge. */
export function diffRuns(entriesA: readonly RunEntry[], entriesB: readonly RunEntry[]): RunDiff {
  const a = toSteps(entriesA);
  const b = toSteps(entriesB);
  const counts: Record<DiffOp, number> = { same: 0, changed: 0, only_a: 0, only_b: 0 };
  let firstDivergence: RunDiff['first_divergence'] = null;
  const steps = align(a, b).map(([i, j]): StepDiff => {
    const left = i === null ? undefined : a[i];
    const right = j === null ? undefined : b[j];
    let diff: StepDiff;
    if (left && right && signature(left) === signature(right)) {
      const changes = payloadChanges(left, right);
      diff = changes.length === 0
        ? { op: 'same', step_a: left.step, step_b: right.step, kind: left.kind, tool: left.tool }
        : { op: 'changed', step_a: left.step, step_b: right.step, kind: left.kind, tool: left.tool, changes };
    } else if (left && right) {
      // Only the linear fallback pairs unequal steps; report them as one removed and one added.
      diff = { op: 'changed', step_a: left.step, step_b: right.step, kind: `${left.kind} → ${right.kind}`, tool: left.tool ?? right.tool, changes: [{ field: 'kind', a: left.kind, b: right.kind }] };
    } else if (left) {
      diff = { op: 'only_a', step_a: left.step, step_b: null, kind: left.kind, tool: left.tool };
    } else {
      const only = right as RunStep;
      diff = { op: 'only_b', step_a: null, step_b: only.step, kind: only.kind, tool: only.tool };
    }
    counts[diff.op] += 1;
    if (!firstDivergence && diff.op !== 'same') {
      const reason = diff.op === 'changed'
        ? `step ${diff.kind} differs in ${(diff.changes ?? []).map((change) => change.field).join(', ')}`
        : diff.op === 'only_a' ? `${diff.kind} happened only in run a` : `${diff.kind} happened only in run b`;
      firstDivergence = { step_a: diff.step_a, step_b: diff.step_b, reason };
    }
    return diff;
  });
  return { identical: firstDivergence === null, steps_a: a.length, steps_b: b.length, first_divergence: firstDivergence, steps, counts };
}
