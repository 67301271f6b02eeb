/** The source of time. Injected everywhere, so TTL and expiry tests run instantly. */
export interface Clock {
  now(): Date;
}

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
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

  advance(ms: number): void {
    this.#nowMs += ms;
  }

  set(to: Date): void {
    this.#nowMs = to.getTime();
  }
}
