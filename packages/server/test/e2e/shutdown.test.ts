import { describe, expect, it } from 'vitest';

import { startTestPlatform } from '../support/test-app.js';

describe('App.close', () => {
  it('finishes requests already in flight, then refuses new connections', async () => {
    const platform = await startTestPlatform();
    const owner = platform.client();
    // Close only once all four requests have reached the server, so they are truly in flight.
    let arrived = 0;
    const allArrived = new Promise<void>((resolve) => {
      platform.app.server.server.on('request', () => {
        arrived += 1;
        if (arrived === 4) resolve();
      });
    });
    // Creating a user hashes its password with scrypt, so these stay in flight for a while.
    const inFlight = Array.from({ length: 4 }, (_, index) =>
      owner.createUser({ body: { email: `drain${String(index)}@example.com`, display_name: 'D', role: 'viewer', password: 'a long password' } }),
    );
    await allArrived;
    await platform.app.close();
    const users = await Promise.all(inFlight);
    expect(users.map((user) => user.email).sort()).toEqual(['drain0@example.com', 'drain1@example.com', 'drain2@example.com', 'drain3@example.com']);
    await expect(fetch(`${platform.url}/healthz`)).rejects.toThrow();
    await platform.close();
  });
});
