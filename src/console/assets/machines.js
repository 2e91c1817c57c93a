// The state machine pages: the list, one machine (its graph with
// diagnostics, live numbers, start and TestState forms, recent
// executions), and the execution search.

import { h, replace, fmtMs, fmtTime, statusPill, errorBox } from './dom.js';
import { request } from './graphql.js';
import { renderGraph } from './render.js';
import { startForm, testStateForm } from './forms.js';
import { livePanel, liveTail } from './live.js';
import { machineHref, executionHref, executionsHref } from './router.js';

/** The fields of a graph, for queries. */
export const GRAPH_FIELDS = `graph { startAt
  nodes { id name type branch start end resource comment retry { errorEquals intervalSeconds maxAttempts backoffRate } }
  branches { id state index startAt }
  edges { from to kind label } }`;

const SUMMARY_FIELDS = 'id name stateMachine status source key startDate stopDate durationMs error cause';

/** The list of state machines. */
export async function machinesPage(main) {
  const data = await request('{ stateMachines { name arn type createdAt diagnostics { severity } } }');
  const rows = data.stateMachines.map((m) => {
    const errors = m.diagnostics.filter((d) => d.severity.toLowerCase() === 'error').length;
    return h('tr', { 'data-machine': m.name },
      h('td', {}, h('a', { href: machineHref(m.name) }, m.name)),
      h('td', {}, m.type),
      h('td', {}, m.diagnostics.length ? h('span', { class: errors ? 'error-text' : 'warning-text' }, `${m.diagnostics.length} diagnostics`) : '–'),
      h('td', {}, fmtTime(m.createdAt)),
      h('td', {}, h('a', { href: executionsHref({ stateMachine: m.name }) }, 'executions')));
  });
  replace(main, h('h2', {}, 'State machines'),
    rows.length
      ? h('table', { class: 'grid machines' }, h('thead', {}, h('tr', {}, ['name', 'type', 'diagnostics', 'created', ''].map((t) => h('th', {}, t)))), h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'No state machine yet.'));
}

/** A table of execution summaries. */
export function executionsTable(summaries, { withMachine = true } = {}) {
  const heads = ['status', 'name', withMachine ? 'state machine' : null, 'source', 'key', 'started', 'duration', 'error'].filter(Boolean);
  return h('table', { class: 'grid executions' },
    h('thead', {}, h('tr', {}, heads.map((t) => h('th', {}, t)))),
    h('tbody', {}, summaries.map((e) => h('tr', { 'data-execution': e.id, class: `status-row-${e.status.toLowerCase()}` },
      h('td', {}, statusPill(e.status)),
      h('td', {}, h('a', { href: executionHref(e.id) }, e.name)),
      withMachine ? h('td', {}, h('a', { href: machineHref(e.stateMachine) }, e.stateMachine)) : null,
      h('td', {}, e.source), h('td', {}, e.key ?? '–'), h('td', {}, fmtTime(e.startDate)),
      h('td', {}, fmtMs(e.durationMs)), h('td', { class: 'error-text', title: e.cause ?? '' }, e.error ?? '')))));
}

/** One state machine's page; returns a function that stops its live parts. */
export async function machinePage(main, name) {
  const data = await request(
    `query Machine($name: String!) { stateMachine(name: $name) { name arn type definition createdAt
      diagnostics { code message severity location node } ${GRAPH_FIELDS} } }`,
    { name },
  );
  const m = data.stateMachine;
  if (!m) {
    replace(main, errorBox(`No state machine named ${name}.`));
    return () => {};
  }
  const graphBox = h('div', { class: 'graph-box' });
  const testBox = h('div', { class: 'test-box' });
  const stateNames = m.graph.nodes.map((n) => n.name);
  let selected = null;
  const draw = () => replace(graphBox, renderGraph(m.graph, { diagnostics: m.diagnostics, selected, onSelect: select }));
  function select(node) {
    selected = node.id;
    draw();
    replace(testBox, testStateForm(m.definition, stateNames, node.name));
  }
  draw();
  replace(testBox, testStateForm(m.definition, stateNames, stateNames[0]));
  const live = livePanel(m.name);
  const tail = liveTail(m.name);
  const recent = h('div', { class: 'recent' }, 'Loading…');
  const diagnostics = m.diagnostics.length
    ? h('ul', { class: 'diagnostics' }, m.diagnostics.map((d) => h('li', { class: `diagnostic ${d.severity.toLowerCase()}`, 'data-node': d.node ?? '' },
      h('strong', {}, `${d.severity} ${d.code}`), ` ${d.message}`, d.location ? h('code', {}, ` at ${d.location}`) : null)))
    : null;
  replace(main,
    h('h2', {}, m.name, ' ', h('span', { class: 'muted small' }, m.type)),
    h('p', { class: 'muted small' }, m.arn),
    diagnostics,
    h('div', { class: 'machine-layout' },
      h('div', { class: 'machine-graph' }, h('p', { class: 'muted small' }, 'Click a state to test it with TestState.'), graphBox),
      h('aside', { class: 'machine-side' }, startForm(m.name, '{}', (e) => (location.hash = executionHref(e.id))), testBox)),
    h('h3', {}, 'Live'), live.el, tail.el,
    h('h3', {}, 'Recent executions ', h('a', { class: 'small', href: executionsHref({ stateMachine: m.name }) }, 'search…')), recent,
    h('details', {}, h('summary', {}, 'Definition'), h('pre', { class: 'json' }, m.definition)));
  request(`query Recent($f: ExecutionFilter) { executions(filter: $f, first: 20) { edges { node { ${SUMMARY_FIELDS} } } } }`, { f: { stateMachine: m.name } })
    .then((d) => replace(recent, executionsTable(d.executions.edges.map((e) => e.node), { withMachine: false })))
    .catch((err) => replace(recent, errorBox(err)));
  return () => {
    live.stop();
    tail.stop();
  };
}

/** The execution search: a filter form and pages of results. */
export async function executionsPage(main, filter) {
  const field = (name, label, attrs = {}) => h('label', {}, label, h('input', { name, value: filter[name] ?? '', ...attrs }));
  const status = h('select', { name: 'status' }, ['', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'].map((s) => h('option', { value: s, selected: filter.status === s }, s || 'any status')));
  const form = h('form', { class: 'filter' },
    field('stateMachine', 'State machine'), h('label', {}, 'Status', status), field('error', 'Error'), field('key', 'Key'),
    field('startedAfter', 'Started after', { placeholder: '2026-01-01T00:00:00Z' }), field('startedBefore', 'Started before'),
    h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = executionsHref(Object.fromEntries(new FormData(form)));
  });
  const results = h('div', { class: 'results' }, 'Searching…');
  replace(main, h('h2', {}, 'Executions'), form, results);
  const clean = Object.fromEntries(Object.entries(filter).filter(([, v]) => v));
  const summaries = [];
  const more = async (after) => {
    try {
      const d = await request(
        `query Search($f: ExecutionFilter, $after: String) { executions(filter: $f, first: 50, after: $after) {
          edges { node { ${SUMMARY_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
        { f: clean, after },
      );
      summaries.push(...d.executions.edges.map((e) => e.node));
      const page = d.executions.pageInfo;
      const next = page.hasNextPage ? h('button', { type: 'button', onclick: () => more(page.endCursor) }, 'More') : null;
      replace(results, summaries.length ? executionsTable(summaries) : h('p', { class: 'muted' }, 'No execution matches.'), next);
    } catch (err) {
      replace(results, errorBox(err));
    }
  };
  await more(null);
}
