/**
 * Benchmark harness: each suite measures a figure and, in the same run, the baseline it is judged
 * against (a raw driver command, a bare handler, a plain INSERT ...), and reports the ratio.
 * Figures are never asserted in timed tests; they are printed here and quoted in closing notes.
 */
export interface BenchFigure {
  /** What was measured, e.g. "authenticated GET /v1/tenants/{id} p50". */
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** What the value is compared with, measured in this same run. */
  readonly baselineName: string;
  readonly baseline: number;
  /** The target, e.g. "ratio <= 1.3" or "<= 2 ms"; shown beside the figure. */
  readonly goal?: string;
  /** Whether the goal holds; omitted when there is no goal. */
  readonly met?: boolean;
}

export interface BenchSuite {
  readonly name: string;
  /** Suites that need a service or a sandbox say so and are reported as skipped when it is absent. */
  readonly requires?: readonly ('postgres' | 'redis' | 'nats' | 'bwrap' | 'runsc')[];
  run(record: (figure: BenchFigure) => void): Promise<void>;
}

/** The p-th percentile (0..100) of samples, by nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Runs `fn` `count` times sequentially and returns each duration in milliseconds. */
export async function timeEach(count: number, fn: (index: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const start = performance.now();
    await fn(index);
    samples.push(performance.now() - start);
  }
  return samples;
}

/** Runs `total` calls of `fn` with at most `concurrency` in flight; returns each call's latency in ms. */
export async function timeConcurrent(
  total: number,
  concurrency: number,
  fn: (index: number) => Promise<unknown>,
): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < total) {
      const index = next;
      next += 1;
      const start = performance.now();
      await fn(index);
      samples.push(performance.now() - start);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, () => worker()));
  return samples;
}

/**
 * Starts `total` calls of `fn` at a steady `perSecond` (open loop: a slow call does not delay the
 * next start) and returns each call's latency in ms, measured from its scheduled start, and the
 * rate actually achieved. No call starts before its time: each wake-up starts every call that is
 * due, so timer granularity (~1 ms) delays some starts, equally for a figure and its baseline.
 */
export async function timeAtRate(total: number, perSecond: number, fn: (index: number) => Promise<unknown>): Promise<{ latencies: number[]; rate: number }> {
  const latencies: number[] = [];
  const running: Promise<void>[] = [];
  const started = performance.now();
  const dueAt = (index: number): number => started + (index * 1000) / perSecond;
  let index = 0;
  while (index < total) {
    const wait = dueAt(index) - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const now = performance.now();
    for (; index < total && dueAt(index) <= now; index += 1) {
      const due = dueAt(index);
      running.push(
        fn(index).then(() => {
          latencies.push(performance.now() - due);
        }),
      );
    }
  }
  await Promise.all(running);
  return { latencies, rate: total / ((performance.now() - started) / 1000) };
}

/** CPU time (user and system) this process spent since `start`, in microseconds. */
function cpuMicrosSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

/**
 * Times each way of calling in turn, `rounds` rounds of `calls / rounds` calls each after
 * `warmUp` calls of every way, so a slow phase of the shared machine (or a JIT tier reached late)
 * falls on all of them alike rather than on whichever ran first. Returns each way's latencies (ms)
 * and this process's CPU per call (µs).
 */
export async function alternate<TWay extends string>(
  ways: Record<TWay, () => Promise<unknown>>,
  plan: { readonly warmUp: number; readonly rounds: number; readonly calls: number },
): Promise<{ latencies: Record<TWay, number[]>; cpuMicros: Record<TWay, number> }> {
  const names = Object.keys(ways) as TWay[];
  const latencies = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<TWay, number[]>;
  const cpu = Object.fromEntries(names.map((name) => [name, 0])) as Record<TWay, number>;
  for (const name of names) await timeEach(plan.warmUp, ways[name]);
  for (let round = 0; round < plan.rounds; round++) {
    for (const name of names) {
      const start = process.cpuUsage();
      latencies[name].push(...(await timeEach(plan.calls / plan.rounds, ways[name])));
      cpu[name] += cpuMicrosSince(start);
    }
  }
  const cpuMicros = Object.fromEntries(names.map((name) => [name, cpu[name] / plan.calls])) as Record<TWay, number>;
  return { latencies, cpuMicros };
}
