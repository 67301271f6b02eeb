/**
 * @module shared/ids
 * Prefixed sortable ids (`tnt_…`, `key_…`, `task_…`) behind the IdGenerator port.
 */
export {
  SequentialIdGenerator,
  UlidIdGenerator,
  hasIdPrefix,
  type IdGenerator,
  type PrefixedId,
} from './ids.js';
