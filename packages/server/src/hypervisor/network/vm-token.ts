import { createHmac } from 'node:crypto';

import { safeEqual } from '../../shared/crypto/index.js';
import type { Clock } from '../../shared/ports/index.js';
import { VmTokenInvalidError } from '../errors.js';

/** What a VM token proves: this VM, this run, this tenant, until `expiresAt`. */
export interface VmTokenClaims {
  readonly tenantId: string;
  readonly vmId: string;
  readonly runId: string;
  readonly expiresAt: number;
}

/**
 * Short-lived HMAC-SHA256 tokens a tool inside a VM presents when it calls back into the kernel
 * (spec §39 zero trust). Scoped to one VM and one run; `verify` checks scope and expiry.
 */
export class VmTokenIssuer {
  readonly #key: Buffer;
  readonly #clock: Clock;
  readonly #ttlMs: number;

  constructor(deps: { key: Buffer; clock: Clock; ttlMs?: number }) {
    if (deps.key.length < 32) throw new TypeError('VM token key must be at least 32 bytes');
    this.#key = deps.key;
    this.#clock = deps.clock;
    this.#ttlMs = deps.ttlMs ?? 5 * 60_000;
  }

  issue(scope: { tenantId: string; vmId: string; runId: string }): string {
    const claims: VmTokenClaims = { ...scope, expiresAt: this.#clock.nowMs() + this.#ttlMs };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `vmt_${body}.${this.#sign(body)}`;
  }

  /** @throws {VmTokenInvalidError} when malformed, forged, expired, or for another VM or run. */
  verify(token: string, expected: { vmId: string; runId: string }): VmTokenClaims {
    const match = /^vmt_([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token);
    if (!match?.[1] || !match[2]) throw new VmTokenInvalidError('malformed');
    if (!safeEqual(match[2], this.#sign(match[1]))) throw new VmTokenInvalidError('bad signature');
    const claims = JSON.parse(Buffer.from(match[1], 'base64url').toString('utf8')) as VmTokenClaims;
    if (claims.expiresAt <= this.#clock.nowMs()) throw new VmTokenInvalidError('expired');
    if (claims.vmId !== expected.vmId || claims.runId !== expected.runId) throw new VmTokenInvalidError('scoped to another VM or run');
    return claims;
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#key).update(`aether-vm-token\0${body}`).digest('base64url');
  }
}
