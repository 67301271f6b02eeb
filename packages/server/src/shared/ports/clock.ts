/** The source of time. Injected everywhere, so TTL and expiry tests run instantly. */
export interface Clock {
  now(): Date;
  /** `now()` as epoch milliseconds, without making a Date (hot paths read the time per request). */
  nowMs(): number;
}

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }

  nowMs(): number {
    return Date.now();
  }
}

/** A clock that moves only when told to; for tests and simulations. */
export class ManualClock implements Clock {
  #nowMs: number;

  constructor(start: Date = new Date('2030-01-01T00:00:00Z')) {
    this.#nowMs = start.getTime();
  }

  now(): Date {
    return new Date(this.#nowMs);
  }

  nowMs(): number {
    return this.#nowMs;
  }

  advance(ms: number): void {
    this.#nowMs += ms;
  }

  set(to: Date): void {
    this.#nowMs = to.getTime();
  }
}
