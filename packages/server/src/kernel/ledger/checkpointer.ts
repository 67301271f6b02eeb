import { errorMessage } from '../../shared/errors/index.js';
import type { Logger } from '../../shared/ports/index.js';
import type { LedgerService } from './ledger-service.js';

export interface LedgerCheckpointerDeps {
  readonly ledger: LedgerService;
  readonly logger: Logger;
  /** How often to look for tenants whose newest entries are under no checkpoint yet. */
  readonly intervalMs: number;
}

/**
 * Signs checkpoints for tenants that stopped appending, so their newest entries do not stay
 * uncovered until the next append. Safe to run in every process: the head row lock serializes.
 */
export class LedgerCheckpointer {
  readonly #ledger: LedgerService;
  readonly #log: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(deps: LedgerCheckpointerDeps) {
    this.#ledger = deps.ledger;
    this.#log = deps.logger.child({ module: 'ledger' });
    this.#intervalMs = deps.intervalMs;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.#running ??= this.#ledger
        .checkpointStale()
        .then((count) => {
          if (count > 0) this.#log.debug('ledger.checkpoints-signed', { tenants: count });
        })
        .catch((error: unknown) => {
          this.#log.error('ledger.checkpoint-failed', { error: errorMessage(error) });
        })
        .finally(() => {
          this.#running = undefined;
        });
    }, this.#intervalMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
