import { createAetherClient, type AetherClient } from '@aether/protocol';

const STORAGE_KEY = 'aether.apiKey';

/** The one API client of the dashboard: same origin, the key kept for this browser tab only. */
export function clientFor(apiKey: string): AetherClient {
  return createAetherClient({ url: window.location.origin, apiKey });
}

export function savedKey(): string {
  return window.sessionStorage.getItem(STORAGE_KEY) ?? '';
}

export function saveKey(apiKey: string): void {
  window.sessionStorage.setItem(STORAGE_KEY, apiKey);
}
