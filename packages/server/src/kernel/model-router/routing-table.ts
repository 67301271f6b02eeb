import type { ComplexityLevel } from './complexity.js';
import type { ModelTier } from './catalog.js';

export type Latency = 'normal' | 'critical';
export type Delivery = 'sync' | 'stream' | 'async_queue';

export interface TableDecision {
  /** Tiers to try, in order; empty when denied. */
  readonly tiers: readonly ModelTier[];
  readonly delivery: Delivery;
  readonly preferCache: boolean;
  readonly denied: string | undefined;
  readonly reason: string;
}

/** Utilisation of the tightest budget from which the budget counts as tight (spec §12: 90 %). */
export const TIGHT_BUDGET_UTILISATION = 0.9;

/**
 * The routing table of spec §19. A tight budget overrides latency (money is a hard limit, speed a
 * preference). Fallback tiers after the first are where the router goes when providers fail.
 *
 * | signal           | low          | medium       | high        |
 * |------------------|--------------|--------------|-------------|
 * | complexity       | small        | mid          | large       |
 * | budget tight     | small always | small -> mid | deny        |
 * | latency critical | cached/small | mid + stream | async queue |
 */
export function applyRoutingTable(level: ComplexityLevel, budgetTight: boolean, latency: Latency): TableDecision {
  if (budgetTight) {
    if (level === 'low') return { tiers: ['small'], delivery: 'sync', preferCache: true, denied: undefined, reason: 'budget tight, low complexity: small model only' };
    if (level === 'medium') return { tiers: ['small', 'mid'], delivery: 'sync', preferCache: true, denied: undefined, reason: 'budget tight, medium complexity: small model, then mid' };
    return { tiers: [], delivery: 'sync', preferCache: true, denied: 'budget tight and the request is highly complex', reason: 'budget tight, high complexity: denied' };
  }
  if (latency === 'critical') {
    if (level === 'low') return { tiers: ['small', 'mid'], delivery: 'sync', preferCache: true, denied: undefined, reason: 'latency critical, low complexity: cached answer or small model' };
    if (level === 'medium') return { tiers: ['mid', 'small'], delivery: 'stream', preferCache: true, denied: undefined, reason: 'latency critical, medium complexity: mid model, streamed' };
    return { tiers: ['large', 'mid'], delivery: 'async_queue', preferCache: true, denied: undefined, reason: 'latency critical, high complexity: large model through the async queue' };
  }
  if (level === 'low') return { tiers: ['small', 'mid'], delivery: 'sync', preferCache: false, denied: undefined, reason: 'low complexity: small model' };
  if (level === 'medium') return { tiers: ['mid', 'large', 'small'], delivery: 'sync', preferCache: false, denied: undefined, reason: 'medium complexity: mid model' };
  return { tiers: ['large', 'mid'], delivery: 'sync', preferCache: false, denied: undefined, reason: 'high complexity: large model' };
}
