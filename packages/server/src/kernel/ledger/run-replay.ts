import { isDeepStrictEqual } from 'node:util';

/**
 * Replay, simulate and debug over recorded runs. Pure functions of ledger entries, generic over
 * kinds: they read only conventional payload fields (`status`, `tool`, `output`, `cost_usd`,
 * `state`, `error`), so entries that later modules add work without changes here.
 */

/** The part of a ledger entry a run analysis reads. */
export interface RunEntry {
  readonly seq: number;
  readonly time: string;
  readonly kind: string;
  readonly actor: { readonly type: string; readonly id: string };
  readonly subject: Readonly<Record<string, string>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface RunStep extends RunEntry {
  /** 1-based position in the run. */
  readonly step: number;
  readonly tool: string | null;
  /** True when `simulate` replaced this step's recorded output. */
  readonly substituted?: boolean;
}

/** The state folded from a run's steps by the generic reducer. */
export interface RunState {
  readonly status: string | null;
  readonly steps: number;
  readonly started_at: string | null;
  readonly updated_at: string | null;
  readonly kinds: Readonly<Record<string, number>>;
  readonly tools: Readonly<Record<string, number>>;
  readonly llm_calls: number;
  readonly cost_usd: number;
  readonly last_output: unknown;
  /** Shallow merge of every `payload.state` object, in order. */
  readonly data: Readonly<Record<string, unknown>>;
  readonly errors: readonly { readonly step: number; readonly kind: string; readonly message: string }[];
}

/** Folds steps into a state; the runtime may plug in one that re-derives decisions. */
export interface RunReducer<TState> {
  initial(): TState;
  step(state: TState, step: RunStep): TState;
}

const RUN_NAMESPACES = new Set(['task', 'workflow', 'intent', 'agent']);

function stringField(payload: Readonly<Record<string, unknown>>, name: string): string | null {
  const value = payload[name];
  return typeof value === 'string' ? value : null;
}

function statusOf(step: RunStep): string | null {
  const explicit = stringField(step.payload, 'status') ?? stringField(step.payload, 'to_status') ?? stringField(step.payload, 'to');
  if (explicit) return explicit;
  const [namespace, ...rest] = step.kind.split('.');
  // task.completed, workflow.failed: the verb of a run-level kind is its status.
  return namespace && RUN_NAMESPACES.has(namespace) ? rest.join('.') : null;
}

/** The default reducer: status, counts, cost, last output, merged state data and errors. */
export const genericRunReducer: RunReducer<RunState> = {
  initial: () => ({ status: null, steps: 0, started_at: null, updated_at: null, kinds: {}, tools: {}, llm_calls: 0, cost_usd: 0, last_output: null, data: {}, errors: [] }),
  step(state, step) {
    const cost = step.payload['cost_usd'];
    const stateData = step.payload['state'];
    const error = step.payload['error'];
    const failed = step.kind.endsWith('.failed') || error !== undefined;
    return {
      status: statusOf(step) ?? state.status,
      steps: state.steps + 1,
      started_at: state.started_at ?? step.time,
      updated_at: step.time,
      kinds: { ...state.kinds, [step.kind]: (state.kinds[step.kind] ?? 0) + 1 },
      tools: step.tool ? { ...state.tools, [step.tool]: (state.tools[step.tool] ?? 0) + 1 } : state.tools,
      llm_calls: state.llm_calls + (step.kind.startsWith('llm.') ? 1 : 0),
      cost_usd: Math.round((state.cost_usd + (typeof cost === 'number' && Number.isFinite(cost) ? cost : 0)) * 1e9) / 1e9,
      last_output: Object.hasOwn(step.payload, 'output') ? step.payload['output'] : state.last_output,
      data: typeof stateData === 'object' && stateData !== null && !Array.isArray(stateData) ? { ...state.data, ...(stateData as Record<string, unknown>) } : state.data,
      errors: failed ? [...state.errors, { step: step.step, kind: step.kind, message: typeof error === 'string' ? error : JSON.stringify(error ?? step.kind) }] : state.errors,
    };
  },
};

/** Numbers a run's entries as steps, in seq order. */
export function toSteps(entries: readonly RunEntry[]): RunStep[] {
  return [...entries]
    .sort((a, b) => a.seq - b.seq)
    .map((entry, index) => ({ ...entry, step: index + 1, tool: stringField(entry.payload, 'tool') ?? entry.subject['tool'] ?? null }));
}

function fold<TState>(steps: readonly RunStep[], reducer: RunReducer<TState>): TState {
  return steps.reduce((state, step) => reducer.step(state, step), reducer.initial());
}

/** The timeline of a run and the state it ends in. */
export function replayRun<TState = RunState>(entries: readonly RunEntry[], reducer?: RunReducer<TState>): { steps: RunStep[]; state: TState } {
  const steps = toSteps(entries);
  return { steps, state: fold(steps, reducer ?? (genericRunReducer as unknown as RunReducer<TState>)) };
}

/** "What if this step had returned X": replaces recorded outputs. Matched by step, seq, or kind/tool (+ occurrence). */
export interface Substitution {
  readonly step?: number | undefined;
  readonly seq?: number | undefined;
  readonly kind?: string | undefined;
  readonly tool?: string | undefined;
  /** With kind/tool: only the n-th matching step (1-based); every match when omitted. */
  readonly occurrence?: number | undefined;
  readonly output: unknown;
}

/** Matches `tool.*`-style prefixes as well as exact kinds. */
export function kindMatches(pattern: string, kind: string): boolean {
  return pattern.endsWith('.*') ? kind.startsWith(pattern.slice(0, -1)) : pattern === kind;
}

function substitutionFor(step: RunStep, substitutions: readonly Substitution[], occurrences: Map<Substitution, number>): Substitution | undefined {
  for (const substitution of substitutions) {
    if (substitution.step !== undefined) {
      if (substitution.step === step.step) return substitution;
      continue;
    }
    if (substitution.seq !== undefined) {
      if (substitution.seq === step.seq) return substitution;
      continue;
    }
    if (substitution.kind === undefined && substitution.tool === undefined) continue;
    if (substitution.kind !== undefined && !kindMatches(substitution.kind, step.kind)) continue;
    if (substitution.tool !== undefined && substitution.tool !== step.tool) continue;
    const seen = (occurrences.get(substitution) ?? 0) + 1;
    occurrences.set(substitution, seen);
    if (substitution.occurrence === undefined || substitution.occurrence === seen) return substitution;
  }
  return undefined;
}

export interface SimulationResult<TState> {
  readonly steps: RunStep[];
  readonly state: TState;
  readonly recorded_state: TState;
  readonly substituted_steps: number[];
  /** Top-level state fields whose value differs from the recorded run's. */
  readonly changed_fields: string[];
  /** Always 0: a simulation runs no tool and appends nothing. */
  readonly side_effects: 0;
}

/**
 * Re-runs a recorded run against its recorded LLM and tool outputs, with substitutions, folding
 * the state again. Nothing is executed and nothing is written.
 */
export function simulateRun<TState = RunState>(
  entries: readonly RunEntry[],
  substitutions: readonly Substitution[],
  reducer?: RunReducer<TState>,
): SimulationResult<TState> {
  const chosen = reducer ?? (genericRunReducer as unknown as RunReducer<TState>);
  const recorded = toSteps(entries);
  const occurrences = new Map<Substitution, number>();
  const substituted: number[] = [];
  const steps = recorded.map((step) => {
    const substitution = substitutionFor(step, substitutions, occurrences);
    if (!substitution) return step;
    substituted.push(step.step);
    return { ...step, payload: { ...step.payload, output: substitution.output }, substituted: true };
  });
  const state = fold(steps, chosen);
  const recordedState = fold(recorded, chosen);
  const changed =
    typeof state === 'object' && state !== null
      ? Object.keys(state).filter((key) => !isDeepStrictEqual((state as Record<string, unknown>)[key], (recordedState as Record<string, unknown>)[key]))
      : isDeepStrictEqual(state, recordedState) ? [] : ['state'];
  return { steps, state, recorded_state: recordedState, substituted_steps: substituted, changed_fields: changed, side_effects: 0 };
}

export interface Breakpoints {
  readonly kinds?: readonly string[] | undefined;
  readonly tools?: readonly string[] | undefined;
}

export interface DebugResult<TState> {
  readonly total_steps: number;
  /** The step stopped at (0 = before the first step). */
  readonly step: number;
  readonly current: RunStep | null;
  readonly state: TState;
  readonly breakpoints: number[];
  readonly previous_breakpoint: number | null;
  readonly next_breakpoint: number | null;
}

/**
 * Steps through a recorded run: the state after step `step`; without `step`, runs to the
 * first breakpoint (or the end). Breakpoints match kinds (`tool.*` prefixes) or tool names.
 */
export function debugRun<TState = RunState>(
  entries: readonly RunEntry[],
  options: { readonly step?: number | undefined; readonly breakpoints?: Breakpoints | undefined },
  reducer?: RunReducer<TState>,
): DebugResult<TState> {
  const steps = toSteps(entries);
  const kinds = options.breakpoints?.kinds ?? [];
  const tools = options.breakpoints?.tools ?? [];
  const hits = steps
    .filter((step) => kinds.some((pattern) => kindMatches(pattern, step.kind)) || (step.tool !== null && tools.includes(step.tool)))
    .map((step) => step.step);
  const at = Math.min(Math.max(options.step ?? hits[0] ?? steps.length, 0), steps.length);
  return {
    total_steps: steps.length,
    step: at,
    current: steps[at - 1] ?? null,
    state: fold(steps.slice(0, at), reducer ?? (genericRunReducer as unknown as RunReducer<TState>)),
    breakpoints: hits,
    previous_breakpoint: hits.filter((hit) => hit < at).at(-1) ?? null,
    next_breakpoint: hits.find((hit) => hit > at) ?? null,
  };
}
