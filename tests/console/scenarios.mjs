// The console's browser scenarios, the same against the real server
// (`spate demo`) and against the canned GraphQL of fake-graphql.mjs:
// see the IoT workflow's graph; start an execution from the page and see
// its path highlighted; open a failed execution and see its error on the
// state that failed; the live view ticking; the search of failed
// executions.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const IOT = JSON.parse(readFileSync(new URL('../../config/workflows/iot-enrich.asl.json', import.meta.url)));
const IOT_INPUT = readFileSync(new URL('../../config/workflows/iot-enrich.input.json', import.meta.url), 'utf8');

/** Every state name of a definition, nested ones too. */
export function stateNames(def) {
  return Object.entries(def.States).flatMap(([name, s]) => [
    name,
    ...(s.Branches ?? []).flatMap(stateNames),
    ...(s.ItemProcessor ?? s.Iterator ? stateNames(s.ItemProcessor ?? s.Iterator) : []),
  ]);
}

const node = (page, name) => page.locator(`svg.graph g.node[data-name="${name}"]`);

/** Opens machine `name`'s page and waits for its graph. */
async function openMachine(page, base, name) {
  await page.goto(`${base}/console/#/machines/${encodeURIComponent(name)}`);
  await page.locator('svg.graph g.node').first().waitFor({ timeout: 20000 });
}

/** Starts an execution of the open machine with `input` from the page's form; waits for its page. */
async function startFromPage(page, input) {
  const editor = page.locator('form.start-form textarea[name=input]');
  const button = page.locator('form.start-form button[type=submit]');
  await editor.fill('{"device_id": ');
  await page.locator('form.start-form .json-status.invalid').waitFor();
  assert.ok(await button.isDisabled(), 'Start is disabled while the input is not JSON');
  await editor.fill(input);
  await page.locator('form.start-form .json-status.valid').waitFor();
  await button.click();
  await page.waitForURL(/#\/executions\/./, { timeout: 20000 });
  await page.locator('svg.graph g.node.visited').first().waitFor({ timeout: 20000 });
}

/** Waits until the execution page shows a final status. */
async function finished(page) {
  await page.locator('.execution-header .status:not(.status-running)').waitFor({ timeout: 30000 });
  await page.locator('svg.graph g.node.visited').first().waitFor();
}

/** The scenarios for the server at `base`, as [name, fn(page)]. */
export function scenarios(base) {
  return [
    ['the IoT workflow graph', async (page) => {
      await openMachine(page, base, 'iot-enrich');
      for (const name of stateNames(IOT)) {
        await node(page, name).waitFor({ state: 'attached' });
        assert.equal(await node(page, name).count(), 1, `one node for ${name}`);
      }
      const labels = await page.locator('svg.graph .edge-label text').allTextContents();
      for (const rule of ['$.temperature', '$.value', '$.humidity']) {
        assert.ok(labels.some((l) => l.includes(rule)), `a Choice edge labelled with ${rule}: ${labels.join(' | ')}`);
      }
      // Map and Parallel are boxes holding their branches.
      assert.equal(await page.locator('svg.graph rect.branch').count(), 3, 'one Map branch, two Parallel branches');
      for (const name of ['Readings', 'Checks']) {
        assert.ok((await node(page, name).getAttribute('class')).includes('container'), `${name} is a box`);
      }
      const box = async (loc) => loc.boundingBox();
      const outer = await box(node(page, 'Checks').locator('rect.box'));
      const inner = await box(node(page, 'Humid').locator('rect.box'));
      assert.ok(inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width
        && inner.y + inner.height <= outer.y + outer.height, 'Humid is drawn inside Checks');
      // Retry is shown on the state that retries.
      assert.equal(await node(page, 'RaiseAlert').locator('.retry-badge').count(), 1);
      assert.equal(await page.locator('svg.graph .retry-badge').count(), 1);
    }],
    ['start an execution and see its path', async (page) => {
      await openMachine(page, base, 'iot-enrich');
      await startFromPage(page, IOT_INPUT);
      await finished(page);
      // The shipped input: 48.5 degrees is a warning, humidity 91 is humid.
      for (const name of ['Validate', 'Route', 'Warning', 'Enrich', 'Readings', 'Classify', 'High', 'InRange', 'Checks', 'Humidity', 'Humid', 'Alert', 'Shape']) {
        assert.match(await node(page, name).getAttribute('class'), /outcome-succeeded/, `${name} on the path`);
      }
      for (const name of ['Rejected', 'Critical', 'RaiseAlert', 'Normal', 'Maintenance', 'Dry']) {
        assert.doesNotMatch(await node(page, name).getAttribute('class'), /visited/, `${name} off the path`);
      }
      const taken = await page.locator('svg.graph path.edge.taken').evaluateAll((ps) => ps.map((p) => `${p.dataset.from}>${p.dataset.to}`));
      for (const step of ['/States/Validate>/States/Route', '/States/Route>/States/Warning', '/States/Warning>/States/Enrich',
        '/States/Enrich>/States/Readings', '/States/Readings>/States/Checks', '/States/Checks>/States/Shape',
        '/States/Readings/ItemProcessor/States/Classify>/States/Readings/ItemProcessor/States/High',
        '/States/Checks/Branches/0/States/Humidity>/States/Checks/Branches/0/States/Humid']) {
        assert.ok(taken.includes(step), `${step} highlighted: ${taken.join(' ')}`);
      }
      assert.ok(!taken.includes('/States/Validate>/States/Rejected'), 'a step not taken is not highlighted');
      await page.locator('.execution-header .status-succeeded').waitFor();
      // Map iterations are browsable in the timeline.
      const picker = page.locator('select[name=map-iteration]');
      assert.deepEqual(await picker.locator('option').allTextContents(), ['all', '0', '1', '2', '3']);
      // Picking an iteration shows its path: 41.2 is in range, 63.8 is high.
      const classes = async (name) => node(page, name).getAttribute('class');
      await picker.selectOption('0');
      await page.waitForFunction(() => !document.querySelector('svg.graph g.node[data-name="High"]').classList.contains('visited'));
      assert.match(await classes('InRange'), /outcome-succeeded/);
      await picker.selectOption('1');
      await page.waitForFunction(() => !document.querySelector('svg.graph g.node[data-name="InRange"]').classList.contains('visited'));
      assert.match(await classes('High'), /outcome-succeeded/);
      assert.ok((await page.locator('table.history tbody tr').allTextContents()).every((row) => !/Classify.*\b[023]\b$/.test(row)));
      await picker.selectOption('all');
      // The state's input and output, on click.
      await node(page, 'Enrich').click();
      await page.locator('.state-detail .selected-state', { hasText: 'Enrich' }).waitFor();
      assert.match(await page.locator('.state-detail').textContent(), /plant-7\/dev-0042/);
    }],
    ['a failed execution shows its error on the failing state', async (page) => {
      await openMachine(page, base, 'iot-enrich');
      // A device_id that is not a string: Validate sends it to Rejected.
      await startFromPage(page, '{"device_id": 42, "site": "plant-7", "readings": [50]}');
      await finished(page);
      await page.locator('.execution-header .status-failed').waitFor();
      const rejected = node(page, 'Rejected');
      assert.match(await rejected.getAttribute('class'), /failing/);
      assert.match(await rejected.getAttribute('class'), /outcome-failed/);
      assert.equal(await page.locator('svg.graph g.node.failing').count(), 1, 'one failing state');
      const error = page.locator(`svg.graph .node-error[data-node="${await rejected.getAttribute('data-node')}"]`);
      assert.match(await error.textContent(), /InvalidEvent/);
      // The side panel opens on the failing state with its error and cause.
      assert.match(await page.locator('.state-detail .selected-state').textContent(), /Rejected/);
      assert.match(await page.locator('.state-detail .state-error').first().textContent(), /InvalidEvent/);
      assert.match(await page.locator('.state-detail').textContent(), /device_id, site and readings/);
      assert.match(await node(page, 'Validate').getAttribute('class'), /outcome-succeeded/);
    }],
    ['TestState on a clicked state', async (page) => {
      await openMachine(page, base, 'iot-enrich');
      await node(page, 'Enrich').click();
      const form = page.locator('form.test-state-form');
      assert.equal(await form.locator('select[name=state]').inputValue(), 'Enrich');
      // Enrich reads the severity an earlier state sets.
      await form.locator('textarea[name=test-input]').fill(JSON.stringify({ ...JSON.parse(IOT_INPUT), severity: 'warning' }, null, 2));
      await form.locator('button[type=submit]').click();
      await page.locator('.test-state-result .test-status', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 15000 });
      const result = await page.locator('.test-state-result').textContent();
      assert.match(result, /Next state\s*Readings/);
      assert.match(result, /plant-7\/dev-0042/);
    }],
    ['the live view updates every second', async (page) => {
      await page.goto(`${base}/console/#/live`);
      const at = page.locator('.live-panel .metric-at').first();
      await at.waitFor({ timeout: 15000 });
      const first = await at.textContent();
      await page.waitForFunction((t) => document.querySelector('.live-panel .metric-at')?.textContent !== t, first, { timeout: 5000 });
      assert.equal(await page.locator('.live-panel').first().locator('tr[data-pipeline="iot"]').count(), 1, 'the demo pipeline has its row');
      assert.ok(Number(await page.locator('.metric-started .metric-value').first().textContent()) > 0, 'executions start every second');
      await page.locator('.live-tail tr.tail-row').first().waitFor({ timeout: 15000 });
    }],
    ['the execution search finds failed executions', async (page) => {
      await page.goto(`${base}/console/#/executions?status=FAILED&stateMachine=iot-enrich`);
      await page.locator('table.executions tbody tr').first().waitFor({ timeout: 15000 });
      const statuses = await page.locator('table.executions tbody .status').allTextContents();
      assert.ok(statuses.length && statuses.every((s) => s === 'FAILED'), statuses.join(','));
      assert.equal(await page.locator('form.filter select[name=status]').inputValue(), 'FAILED');
      await page.locator('table.executions tbody a').first().click();
      await page.locator('.execution-header .status-failed').waitFor();
    }],
  ];
}
