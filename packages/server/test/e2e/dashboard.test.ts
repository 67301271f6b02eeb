import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { testServices } from '../../src/infra/database/testing/index.js';
import { startTestPlatform, type TestPlatform } from '../support/test-app.js';

const CHROMIUM = '/usr/bin/chromium';
const DASHBOARD = fileURLToPath(new URL('../../../dashboard', import.meta.url));
const VITE = fileURLToPath(new URL('../../../../node_modules/.bin/vite', import.meta.url));

if (!existsSync(CHROMIUM) && testServices.isCi) throw new Error(`CI=true but ${CHROMIUM} is missing (apt-get install -y chromium)`);

/**
 * The dashboard as a person meets it: built from its sources, served by the platform at `/`, and
 * driven in Debian's Chromium. A laptop without Chromium reports the suite as skipped.
 */
describe.skipIf(!existsSync(CHROMIUM))('dashboard in a browser', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let built: string;

  beforeAll(async () => {
    built = await mkdtemp(join(tmpdir(), 'aether-dashboard-'));
    await promisify(execFile)(VITE, ['build', '--outDir', built, '--emptyOutDir', '--logLevel', 'error'], { cwd: DASHBOARD });
    platform = await startTestPlatform({ env: { AETHER_DASHBOARD_DIR: built } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser.close();
    await platform.close();
    await rm(built, { recursive: true, force: true });
  });

  it('connects with a tenant key and shows the tenant, its quotas and its keys', async () => {
    const page = await browser.newPage();
    await page.goto(platform.url);
    await page.getByLabel('API key').fill(platform.ownerKey);
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 2 }).textContent()).toBe('Default tenant');
    const body = await page.locator('main').innerText();
    expect(body).toContain(platform.tenantId);
    expect(body).toContain('your role: owner');
    expect(body).toMatch(/max_vms: \d+/);
    expect(await page.locator('li code').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^key_/)]));
    await page.close();
  });

  it('names the error code for a key the platform does not know, and shows no tenant', async () => {
    const page = await browser.newPage();
    await page.goto(platform.url);
    await page.getByLabel('API key').fill('ak_01abcdefghjkmnpqrstvwxyz0_notarealsecret');
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^CREDENTIALS_INVALID: /);
    expect(await page.getByRole('heading', { level: 2 }).count()).toBe(0);
    await page.close();
  });
});
