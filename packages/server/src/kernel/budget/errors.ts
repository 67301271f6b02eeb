import { AppError } from '../../shared/errors/index.js';

/** A reservation would take a budget past its limit; refused before any work (or provider call) starts. */
export class BudgetExhaustedError extends AppError {
  readonly code = 'BUDGET_EXHAUSTED';
  readonly kind = 'limit_exceeded';
  constructor(input: { budgetId: string; scope: string; scopeId: string; limitMicros: number; committedMicros: number; requestedMicros: number }) {
    super(
      `Budget ${input.scope}:${input.scopeId} cannot cover ${usd(input.requestedMicros)} (limit ${usd(input.limitMicros)}, spent or reserved ${usd(input.committedMicros)})`,
      {
        details: {
          budget_id: input.budgetId,
          scope: input.scope,
          scope_id: input.scopeId,
          limit_usd: input.limitMicros / 1e6,
          committed_usd: input.committedMicros / 1e6,
          requested_usd: input.requestedMicros / 1e6,
        },
      },
    );
  }
}

/** The price of an item (model, tool, VM second) is unknown; we fail closed rather than run it unpriced. */
export class PriceUnknownError extends AppError {
  readonly code = 'PRICE_UNKNOWN';
  readonly kind = 'invalid';
  constructor(item: string) {
    super(`No price is known for ${item}; refusing to run it unpriced`, { details: { item } });
  }
}

/** A reservation that is not open (already settled or released, or never made). */
export class ReservationNotOpenError extends AppError {
  readonly code = 'BUDGET_RESERVATION_NOT_OPEN';
  readonly kind = 'conflict';
  constructor(reservationId: string) {
    super(`Reservation ${reservationId} is not open`, { details: { reservation_id: reservationId } });
  }
}

export const usd = (micros: number): string => `${(micros / 1e6).toFixed(6)} USD`;
