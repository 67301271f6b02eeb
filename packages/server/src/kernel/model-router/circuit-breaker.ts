import type { Clock } from '../../shared/ports/index.js';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (spec §42: 5). */
  readonly failureThreshold: number;
  /** How long it stays open before half-open trials (spec §42: 60 s). */
  readonly cooldownMs: number;
  /** Trial calls allowed half-open; all must succeed to close (spec §42: 3). */
  readonly halfOpenCalls: number;
}

export const DEFAULT_BREAKER_OPTIONS: CircuitBreakerOptions = { failureThreshold: 5, cooldownMs: 60_000, halfOpenCalls: 3 };

export type CircuitState = 'closed' | 'open' | 'half_open';

/**
 * One circuit breaker per key (provider). Written here rather than taken from cockatiel because
 * spec §42 wants three half-open trial calls (cockatiel allows one) and tests need the injected
 * clock. Only failures that say the provider is unwell (retryable ones) should be reported.
 */
export class CircuitBreakers {
  readonly #options: CircuitBreakerOptions;
  readonly #clock: Clock;
  readonly #state = new Map<string, { state: CircuitState; failures: number; openedAt: number; trials: number; trialSuccesses: number }>();

  constructor(deps: { clock: Clock; options?: Partial<CircuitBreakerOptions> }) {
    this.#clock = deps.clock;
    this.#options = { ...DEFAULT_BREAKER_OPTIONS, ...deps.options };
  }

  #get(key: string) {
    let entry = this.#state.get(key);
    if (!entry) {
      entry = { state: 'closed', failures: 0, openedAt: 0, trials: 0, trialSuccesses: 0 };
      this.#state.set(key, entry);
    }
    if (entry.state === 'open' && this.#clock.nowMs() - entry.openedAt >= this.#options.cooldownMs) {
      entry.state = 'half_open';
      entry.trials = 0;
      entry.trialSuccesses = 0;
    }
    return entry;
  }

  state(key: string): CircuitState {
    return this.#get(key).state;
  }

  /** Asks to make a call; false when the circuit is open or its half-open trials are taken. */
  tryAcquire(key: string): boolean {
    const entry = this.#get(key);
    if (entry.state === 'closed') return true;
    if (entry.state === 'open') return false;
    if (entry.trials >= this.#options.halfOpenCalls) return false;
    entry.trials++;
    return true;
  }

  onSuccess(key: string): void {
    const entry = this.#get(key);
    if (entry.state === 'half_open') {
      entry.trialSuccesses++;
      if (entry.trialSuccesses >= this.#options.halfOpenCalls) this.#state.set(key, { state: 'closed', failures: 0, openedAt: 0, trials: 0, trialSuccesses: 0 });
      return;
    }
    entry.failures = 0;
  }

  onFailure(key: string): void {
    const entry = this.#get(key);
    if (entry.state === 'half_open') {
      entry.state = 'open';
      entry.openedAt = this.#clock.nowMs();
      return;
    }
    entry.failures++;
    if (entry.state === 'closed' && entry.failures >= this.#options.failureThreshold) {
      entry.state = 'open';
      entry.openedAt = this.#clock.nowMs();
    }
  }
}
