// Test helper: headless Chromium driven by playwright-core (from
// scripts/browser.sh's folder, found through NODE_PATH), a fresh profile
// per run, and a tiny scenario runner that keeps a screenshot of each
// scenario and prints "N passed, N failed".

import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

/** Chromium as the machines here need it: no sandbox (root), no network of its own. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic',
];

/** Launches Chromium with a fresh profile; returns {context, close}. */
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'spate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.SPATE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1500, height: 1000 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `scenarios` ([name, fn(page)]) each in a new page of `context`;
 * a page error or a failed assertion fails the scenario; a full-page
 * screenshot of each goes to `shots/<n>-<name>.png` (n counts from
 * `first`). Returns the number failed.
 */
export async function runScenarios(context, scenarios, shots, setup = async () => {}, first = 1) {
  mkdirSync(shots, { recursive: true });
  let passed = 0;
  let failed = 0;
  for (const [i, [name, fn]] of scenarios.entries()) {
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
    const file = join(shots, `${String(i + first).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
    try {
      await setup(page);
      await fn(page);
      const unexpected = problems.filter((p) => !p.includes('subscription closed') && !p.includes('WebSocket'));
      if (unexpected.length) throw new Error(unexpected.join('\n'));
      passed++;
      console.log(`ok - ${name}`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${name}\n  ${String(e.stack ?? e).split('\n').slice(0, 6).join('\n  ')}`);
      if (problems.length) console.log(`  ${problems.join('\n  ')}`);
    } finally {
      await page.screenshot({ path: file, fullPage: true }).catch((e) => console.log(`  no screenshot: ${e.message}`));
      await page.close();
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}
