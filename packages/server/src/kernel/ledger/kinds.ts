import { LedgerKindInvalidError, LedgerKindUnknownError } from './errors.js';

const KIND_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,4}$/;
const MAX_KIND_LENGTH = 128;

/**
 * Namespaces (first segment of a kind) that the platform's modules write. A kind outside them is
 * refused, so a typo (`tsak.started`) cannot slip into the permanent record. Modules that add a
 * namespace pass it in `LedgerServiceDeps.extraNamespaces`.
 */
export const DEFAULT_KIND_NAMESPACES: readonly string[] = [
  'agent', 'approval', 'auth', 'budget', 'compliance', 'cron', 'exec', 'external', 'intent', 'ledger',
  'llm', 'memory', 'model', 'plugin', 'policy', 'secret', 'session', 'task', 'tenant', 'tool', 'user',
  'vm', 'workflow',
];

/**
 * Checks that `kind` is dotted lowercase and in a known namespace.
 * @throws {LedgerKindInvalidError} when it is not dotted lowercase.
 * @throws {LedgerKindUnknownError} when its namespace is not registered.
 */
export function assertLedgerKind(kind: string, namespaces: ReadonlySet<string>): void {
  if (kind.length > MAX_KIND_LENGTH || !KIND_PATTERN.test(kind)) throw new LedgerKindInvalidError(kind);
  const namespace = kind.slice(0, kind.indexOf('.'));
  if (!namespaces.has(namespace)) throw new LedgerKindUnknownError(kind, namespace);
}
