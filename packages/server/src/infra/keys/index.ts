/**
 * @module infra/keys
 * The master key file (0600) that encrypts secrets and signing keys at rest.
 */
export { ensureMasterKeyFile, readMasterKeyFile } from './master-key.js';
