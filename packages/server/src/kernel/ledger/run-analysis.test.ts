import { describe, expect, it } from 'vitest';

import { diffRuns } from './run-diff.js';
import { debugRun, genericRunReducer, kindMatches, replayRun, simulateRun, type RunEntry, type RunReducer } from './run-replay.js';

let seq = 0;
function entry(kind: string, payload: Record<string, unknown> = {}, subject: Record<string, string> = { task_id: 'task_1' }): RunEntry {
  seq += 1;
  return { seq, time: new Date(Date.UTC(2030, 0, 1, 0, 0, seq)).toISOString(), kind, actor: { type: 'agent', id: 'agt_1' }, subject, payload };
}

function recordedRun(searchOutput: unknown = ['a.ts']): RunEntry[] {
  return [
    entry('task.started', { state: { goal: 'fix bug' } }),
    entry('llm.called', { model: 'm1', output: 'call search', cost_usd: 0.01 }),
    entry('tool.called', { tool: 'search', output: searchOutput, duration_ms: 12 }),
    entry('llm.called', { model: 'm1', output: 'call edit', cost_usd: 0.02 }),
    entry('tool.called', { tool: 'edit', output: 'ok', state: { edited: true } }),
    entry('task.completed', { status: 'succeeded' }),
  ];
}

describe('replayRun', () => {
  it('rebuilds the timeline and folds the final state', () => {
    const { steps, state } = replayRun(recordedRun());
    expect(steps.map((step) => [step.step, step.kind, step.tool])).toEqual([
      [1, 'task.started', null], [2, 'llm.called', null], [3, 'tool.called', 'search'], [4, 'llm.called', null], [5, 'tool.called', 'edit'], [6, 'task.completed', null],
    ]);
    expect(state).toMatchObject({ status: 'succeeded', steps: 6, llm_calls: 2, cost_usd: 0.03, tools: { search: 1, edit: 1 }, last_output: 'ok', data: { goal: 'fix bug', edited: true }, errors: [] });
  });

  it('orders entries by seq and records failures', () => {
    const run = [entry('task.started'), entry('tool.failed', { tool: 'curl', error: 'timeout' })].reverse();
    const { steps, state } = replayRun(run);
    expect(steps[0]?.kind).toBe('task.started');
    expect(state.errors).toEqual([{ step: 2, kind: 'tool.failed', message: 'timeout' }]);
    expect(state.status).toBe('started');
  });

  it('folds with a caller-supplied reducer', () => {
    const counter: RunReducer<number> = { initial: () => 0, step: (total, step) => total + (step.kind === 'llm.called' ? 1 : 0) };
    expect(replayRun(recordedRun(), counter).state).toBe(2);
  });
});

describe('simulateRun', () => {
  it('replaces a recorded tool output and reports what changed, with no side effects', () => {
    const result = simulateRun(recordedRun(), [{ tool: 'edit', output: 'conflict' }]);
    expect(result.substituted_steps).toEqual([5]);
    expect(result.steps[4]).toMatchObject({ substituted: true, payload: { tool: 'edit', output: 'conflict' } });
    expect(result.state.last_output).toBe('conflict');
    expect(result.recorded_state.last_output).toBe('ok');
    expect(result.changed_fields).toEqual(['last_output']);
    expect(result.side_effects).toBe(0);
  });

  it('matches by step, seq, kind pattern and occurrence', () => {
    const run = recordedRun();
    expect(simulateRun(run, [{ step: 2, output: 'x' }]).substituted_steps).toEqual([2]);
    expect(simulateRun(run, [{ seq: run[3]?.seq, output: 'x' }]).substituted_steps).toEqual([4]);
    expect(simulateRun(run, [{ kind: 'llm.*', output: 'x' }]).substituted_steps).toEqual([2, 4]);
    expect(simulateRun(run, [{ kind: 'llm.called', occurrence: 2, output: 'x' }]).substituted_steps).toEqual([4]);
    expect(simulateRun(run, [{ output: 'x' }]).substituted_steps).toEqual([]);
  });

  it('leaves the state unchanged when nothing is substituted', () => {
    expect(simulateRun(recordedRun(), []).changed_fields).toEqual([]);
  });
});

describe('debugRun', () => {
  it('gives the state at step N and the breakpoints around it', () => {
    const result = debugRun(recordedRun(), { step: 3, breakpoints: { kinds: ['llm.*'], tools: ['edit'] } });
    expect(result).toMatchObject({ total_steps: 6, step: 3, breakpoints: [2, 4, 5], previous_breakpoint: 2, next_breakpoint: 4 });
    expect(result.current?.tool).toBe('search');
    expect(result.state).toMatchObject({ steps: 3, llm_calls: 1, last_output: ['a.ts'] });
  });

  it('runs to the first breakpoint without a step, and to the end without breakpoints', () => {
    expect(debugRun(recordedRun(), { breakpoints: { tools: ['edit'] } }).step).toBe(5);
    expect(debugRun(recordedRun(), {}).step).toBe(6);
    expect(debugRun(recordedRun(), { step: 0 })).toMatchObject({ step: 0, current: null, state: genericRunReducer.initial() });
    expect(debugRun(recordedRun(), { step: 99 }).step).toBe(6);
  });
});

describe('kindMatches', () => {
  it('matches exact kinds and dotted prefixes', () => {
    expect(kindMatches('tool.*', 'tool.called')).toBe(true);
    expect(kindMatches('tool.*', 'toolbox.called')).toBe(false);
    expect(kindMatches('tool.called', 'tool.called')).toBe(true);
  });
});

describe('diffRuns', () => {
  it('finds two identical runs identical, ignoring volatile fields', () => {
    const b = recordedRun();
    const third = b[2] as RunEntry;
    b[2] = { ...third, payload: { ...third.payload, duration_ms: 99 } };
    const diff = diffRuns(recordedRun(), b);
    expect(diff).toMatchObject({ identical: true, first_divergence: null, counts: { same: 6, changed: 0, only_a: 0, only_b: 0 } });
  });

  it('reports the first step whose output differs', () => {
    const diff = diffRuns(recordedRun(['a.ts']), recordedRun(['b.ts']));
    expect(diff.first_divergence).toEqual({ step_a: 3, step_b: 3, reason: 'step tool.called differs in output' });
    expect(diff.steps[2]).toMatchObject({ op: 'changed', changes: [{ field: 'output', a: ['a.ts'], b: ['b.ts'] }] });
  });

  it('aligns around steps that only one run took', () => {
    const a = recordedRun();
    const b = recordedRun();
    // Between steps 3 and 4 of run b.
    b.splice(3, 0, { ...entry('tool.called', { tool: 'lint', output: 'clean' }), seq: (b[2] as RunEntry).seq + 0.5 });
    const diff = diffRuns(a, b);
    expect(diff.counts).toEqual({ same: 6, changed: 0, only_a: 0, only_b: 1 });
    expect(diff.first_divergence).toEqual({ step_a: null, step_b: 4, reason: 'tool.called happened only in run b' });
  });

  it('reports steps missing from run b', () => {
    const a = recordedRun();
    const diff = diffRuns(a, a.slice(0, 4));
    expect(diff.counts.only_a).toBe(2);
    expect(diff.first_divergence?.step_a).toBe(5);
  });
});
