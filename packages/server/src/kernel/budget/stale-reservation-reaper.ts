import { errorMessage } from '../../shared/errors/index.js';
import type { Logger } from '../../shared/ports/index.js';
import type { BudgetService } from './budget-service.js';

/**
 * Releases reservations whose process died before settling, every `intervalMs`. Safe to run in
 * every process at once: each release is conditional on the reservation still being open.
 */
export class StaleReservationReaper implements AsyncDisposable {
  readonly #budget: BudgetService;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #maxAgeMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();

  constructor(deps: { budget: BudgetService; logger: Logger; intervalMs: number; maxAgeMs: number }) {
    this.#budget = deps.budget;
    this.#log = deps.logger.child({ module: 'budget-reaper' });
    this.#intervalMs = deps.intervalMs;
    this.#maxAgeMs = deps.maxAgeMs;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.#running = this.runOnce();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /** One pass; returns how many reservations were released. Failures are logged, not thrown. */
  async runOnce(): Promise<number> {
    try {
      const released = await this.#budget.releaseStaleReservations(this.#maxAgeMs);
      if (released > 0) this.#log.warn('budget.stale-reservations-released', { released });
      return released;
    } catch (error) {
      this.#log.error('budget.reaper-failed', { error: errorMessage(error) });
      return 0;
    }
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
