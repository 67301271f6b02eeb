/**
 * @module kernel/budget
 * The budget engine (spec §12): hierarchical budgets (tenant per period, agent, task, sub-agent),
 * atomic reserve-then-settle across processes, 75/90/100 % triggers, and the economics (internal
 * price list, ROI per tenant, sealed-bid slot auction).
 * Owns tables: budget_limits, budget_reservations, budget_notifications, budget_task_values.
 */
export { BudgetService, type BudgetPressure, type BudgetServiceDeps, type ReserveRequest, type SettleRequest } from './budget-service.js';
export {
  ALERT_LEVELS,
  BUDGET_SCOPES,
  levelOf,
  periodStart,
  type BudgetNotification,
  type BudgetPeriod,
  type BudgetRecord,
  type BudgetScope,
  type BudgetScopeRef,
  type BudgetStore,
  type BudgetView,
  type ChargeKind,
  type CostDimension,
  type CostRow,
  type Reservation,
  type SettleOutcome,
  type ThresholdCrossing,
} from './budget-store.js';
export { DEFAULT_PRICE_LIST, runSlotAuction, type AuctionBid, type AuctionResult, type PriceList } from './economics.js';
export { BudgetExhaustedError, PriceUnknownError, ReservationNotOpenError } from './errors.js';
export { budgetMigrations } from './migrations.js';
export { InMemoryBudgetStore } from './in-memory-budget-store.js';
export { StaleReservationReaper } from './stale-reservation-reaper.js';
export { PgBudgetStore } from './pg-budget-store.js';
export { StreamBudgetEvents } from './stream-budget-events.js';
export { budgetRoutes, type BudgetRoutesDeps } from './routes.js';
export { LoggingBudgetEvents, RecordingBudgetEvents, RecordingTaskCanceller, type BudgetEvent, type BudgetEventSink, type TaskCanceller } from './ports.js';
