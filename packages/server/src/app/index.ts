/**
 * @module app
 * The composition root: configuration and the object graph of the whole platform.
 */
export { loadConfig, parseMasterKey, SERVER_ROLES, type Config, type ServerRole } from './config.js';
export { ALL_MIGRATIONS, createApp, type App, type AppOverrides } from './create-app.js';
export { initializePlatform, type InitResult } from './initialize.js';
export { createLauncher } from './launcher.js';
export { runDoctor } from './doctor.js';
export { VERSION } from './version.js';
