// Runs the console's browser scenarios in headless Chromium.
//
//   node tests/console/run.mjs --base http://127.0.0.1:PORT [--fake] [--shots DIR]
//
// --base: the server whose /console is tested (`spate demo`'s admin address).
// --fake: answer /graphql (HTTP and WebSocket) with fake-graphql.mjs
//         instead of the server, and add the page's component scenarios.
// --shots: where the screenshots go (default target/console-screenshots).
// Needs NODE_PATH to hold playwright-core (scripts/browser.sh prints its
// folder) and SPATE_CHROMIUM or /usr/bin/chromium. Exit code 1 when a
// scenario fails.

import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { launch, runScenarios } from './browser.mjs';
import { scenarios } from './scenarios.mjs';
import { fakeServer } from './fake-graphql.mjs';

const { values: args } = parseArgs({
  options: { base: { type: 'string' }, fake: { type: 'boolean', default: false }, shots: { type: 'string', default: 'target/console-screenshots' } },
});
if (!args.base) {
  console.error('run.mjs: --base http://host:port is required');
  process.exit(2);
}
const base = args.base.replace(/\/$/, '');

/** Routes the page's GraphQL to `fake` (HTTP and graphql-transport-ws). */
async function useFake(page, fake) {
  await page.route('**/graphql', async (route) => {
    const headers = route.request().headers();
    await route.fulfill({ json: fake.handle(route.request().postDataJSON(), headers) });
  });
  await page.routeWebSocket('**/graphql', (ws) => {
    const stops = new Map();
    ws.onMessage((text) => {
      const msg = JSON.parse(text);
      if (msg.type === 'connection_init') ws.send(JSON.stringify({ type: 'connection_ack' }));
      if (msg.type === 'subscribe') {
        stops.set(msg.id, fake.subscription(msg.payload, (data) => ws.send(JSON.stringify({ id: msg.id, type: 'next', payload: { data } }))));
      }
      if (msg.type === 'complete') stops.get(msg.id)?.();
    });
    ws.onClose(() => stops.forEach((stop) => stop()));
  });
}

/** The page's own scenarios, against the fake. */
function componentScenarios(fake) {
  return [
    ['a 40-state definition with a diagnostic', async (page) => {
      await page.goto(`${base}/console/#/machines/forty-states`);
      await page.locator('svg.graph g.node').first().waitFor();
      assert.equal(await page.locator('svg.graph g.node').count(), 40);
      const marked = page.locator('svg.graph g.node[data-name="Metrics"] .diagnostic-marker');
      assert.equal(await marked.count(), 1);
      assert.match(await marked.locator('title').textContent(), /no transition reaches this state/);
      assert.equal(await page.locator('svg.graph path.edge-catch').count(), 4, 'the Catch edges');
      assert.equal(await page.locator('svg.graph path.edge.back').count(), 1, 'the loop back to Escalate');
      assert.equal(await page.locator('li.diagnostic').count(), 1);
      // No two state boxes overlap on screen (containers hold theirs).
      const boxes = await page.locator('svg.graph g.node:not(.container) > rect.box').evaluateAll((rs) => rs.map((r) => r.getBoundingClientRect().toJSON()));
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const [a, b] = [boxes[i], boxes[j]];
          assert.ok(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top, `boxes ${i} and ${j} overlap`);
        }
      }
    }],
    ['stop a running execution', async (page) => {
      await page.goto(`${base}/console/#/machines/forty-states`);
      await page.locator('form.start-form textarea[name=input]').fill('{"device_id": "d-1"}');
      await page.locator('form.start-form button[type=submit]').click();
      await page.waitForURL(/#\/executions\/./);
      await page.locator('.execution-header .status-running').waitFor();
      assert.match(await page.locator('svg.graph g.node[data-name="Pause"]').getAttribute('class'), /outcome-running/);
      await page.locator('.execution-header button[name=stop]').click();
      await page.locator('.execution-header .status-aborted').waitFor();
      assert.match(await page.locator('.execution-header').textContent(), /Console\.Stopped/);
      assert.equal(await page.locator('.execution-header button[name=stop]').count(), 0, 'no Stop once stopped');
    }],
  ];
}

/** Login with an API key and with an OIDC token, against a fake that requires one. */
function loginScenarios() {
  const guarded = fakeServer({ apiKey: 'console-test-key-0001', token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' });
  const login = async (page, kind, value) => {
    await page.locator('form.login select[name=kind]').selectOption(kind);
    await page.locator('form.login input[name=credential]').fill(value);
    await page.locator('form.login button[type=submit]').click();
  };
  return [
    ['log in with an API key', async (page) => {
      await useFake(page, guarded);
      await page.goto(`${base}/console/#/machines`);
      await page.waitForURL(/#\/login/);
      await page.locator('.error-box', { hasText: 'API key' }).first().waitFor();
      await login(page, 'apiKey', 'wrong-key-000000000');
      await page.locator('form.login .error-box').waitFor();
      await login(page, 'apiKey', 'console-test-key-0001');
      await page.locator('table.machines tr[data-machine="iot-enrich"]').waitFor();
      assert.match(await page.locator('#who').textContent(), /API key/);
      await page.locator('#who button').click();
      await page.waitForURL(/#\/login/);
    }],
    ['log in with an OIDC token', async (page) => {
      await useFake(page, guarded);
      await page.goto(`${base}/console/#/login`);
      await login(page, 'oidc', 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln');
      await page.locator('table.machines tr[data-machine="iot-enrich"]').waitFor();
      assert.match(await page.locator('#who').textContent(), /OIDC token/);
    }],
  ];
}

const browser = await launch();
let failed;
try {
  if (args.fake) {
    const fake = fakeServer();
    const list = [...scenarios(base), ...componentScenarios(fake)];
    failed = await runScenarios(browser.context, list, args.shots, (page) => useFake(page, fake));
    failed += await runScenarios(browser.context, loginScenarios(), args.shots, undefined, list.length + 1);
  } else {
    failed = await runScenarios(browser.context, scenarios(base), args.shots);
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
