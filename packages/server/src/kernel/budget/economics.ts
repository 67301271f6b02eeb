import { PriceUnknownError } from './errors.js';

/**
 * The internal price list (spec §12 economics): what a tool call and a second of sandbox time
 * cost a tenant, in micro-USD. Items without a price fail closed.
 */
export interface PriceList {
  readonly toolCallMicros: Readonly<Record<string, number>>;
  readonly vmSecondMicros: Readonly<Record<string, number>>;
}

export const DEFAULT_PRICE_LIST: PriceList = {
  // A tool call's platform overhead; tools that cost more (paid APIs) are priced by name.
  toolCallMicros: { '*': 100 },
  // Per sandbox second by VM type (spec §05): MicroVM, DevVM, AgentVM, SecureVM.
  vmSecondMicros: { micro: 20, dev: 80, agent: 50, secure: 120 },
};

/** @throws {PriceUnknownError} when the tool has no price and no `*` price exists. */
export function toolCallPrice(list: PriceList, tool: string): number {
  const price = list.toolCallMicros[tool] ?? list.toolCallMicros['*'];
  if (price === undefined) throw new PriceUnknownError(`tool ${tool}`);
  return price;
}

/** @throws {PriceUnknownError} when the VM type has no price. */
export function vmSecondsPrice(list: PriceList, vmType: string, seconds: number): number {
  const price = list.vmSecondMicros[vmType];
  if (price === undefined) throw new PriceUnknownError(`vm type ${vmType}`);
  return Math.ceil(price * seconds);
}

export interface AuctionBid {
  readonly bidder: string;
  /** The most the bidder will pay for one slot, in micro-USD. */
  readonly bidMicros: number;
  /** What the bidder's budget has left, in micro-USD; a bid beyond it is invalid. */
  readonly remainingBudgetMicros: number;
  /** Its budget's size, for weighting (a bid from a big budget counts for less per dollar). */
  readonly budgetLimitMicros: number;
}

export interface AuctionAward {
  readonly bidder: string;
  readonly score: number;
  /** Second-price: what the winner pays (the next score converted back to its own units). */
  readonly priceMicros: number;
}

export interface AuctionResult {
  readonly awards: readonly AuctionAward[];
  readonly rejected: readonly { readonly bidder: string; readonly reason: 'exceeds_budget' | 'not_positive' | 'outbid' }[];
}

/**
 * A sealed-bid, budget-weighted auction for scarce VM slots (spec §12). Each bid is scored by the
 * share of its own budget it offers (`bid / limit`), so a small tenant that bids a large share of
 * its budget can beat a large tenant bidding a trivial share of its own; the `slots` best scores
 * win and pay a second price (the best losing score, times their own limit, never above their
 * bid). Ties go to the earlier bid. Bids above the bidder's remaining budget are invalid.
 */
export function runSlotAuction(bids: readonly AuctionBid[], slots: number): AuctionResult {
  const rejected: { bidder: string; reason: 'exceeds_budget' | 'not_positive' | 'outbid' }[] = [];
  const valid: { bid: AuctionBid; score: number; order: number }[] = [];
  bids.forEach((bid, order) => {
    if (!(bid.bidMicros > 0) || !(bid.budgetLimitMicros > 0)) rejected.push({ bidder: bid.bidder, reason: 'not_positive' });
    else if (bid.bidMicros > bid.remainingBudgetMicros) rejected.push({ bidder: bid.bidder, reason: 'exceeds_budget' });
    else valid.push({ bid, score: bid.bidMicros / bid.budgetLimitMicros, order });
  });
  valid.sort((a, b) => b.score - a.score || a.order - b.order);
  const winners = valid.slice(0, Math.max(0, slots));
  const clearing = valid[winners.length]?.score ?? 0;
  for (const loser of valid.slice(winners.length)) rejected.push({ bidder: loser.bid.bidder, reason: 'outbid' });
  return {
    awards: winners.map(({ bid, score }) => ({
      bidder: bid.bidder,
      score,
      priceMicros: Math.min(bid.bidMicros, Math.ceil(clearing * bid.budgetLimitMicros)),
    })),
    rejected,
  };
}
