import { SandboxFailedError } from '../errors.js';

/** Hands out host uids so no two live sandboxes share one (a shared uid could signal or ptrace). */
export class UidSlots {
  readonly #base: number;
  readonly #count: number;
  readonly #used = new Set<number>();
  #next = 0;

  constructor(base: number, count: number) {
    this.#base = base;
    this.#count = count;
  }

  acquire(): number {
    for (let i = 0; i < this.#count; i += 1) {
      const slot = (this.#next + i) % this.#count;
      if (!this.#used.has(slot)) {
        this.#used.add(slot);
        this.#next = (slot + 1) % this.#count;
        return this.#base + slot;
      }
    }
    throw new SandboxFailedError(`all ${String(this.#count)} sandbox uid slots are in use`);
  }

  release(uid: number): void {
    this.#used.delete(uid - this.#base);
  }
}
