// The execution page: the path taken over the graph (states coloured by
// outcome, retry counts, the failing state and its error), the selected
// state's runs with their input, output, error and cause, and the
// timeline of history events with Map iterations browsable (picking one
// shows that iteration's path, runs and events). A running
// execution follows its `executionEvents` subscription and can be stopped.

import { h, replace, fmtMs, fmtTime, statusPill, jsonBlock, errorBox } from './dom.js';
import { request, subscribe } from './graphql.js';
import { renderGraph, failingNode } from './render.js';
import { stopButton } from './forms.js';
import { GRAPH_FIELDS } from './machines.js';
import { machineHref } from './router.js';

const EXECUTION_FIELDS = `id name stateMachine status source key startDate stopDate durationMs input output error cause
  historyRecorded
  history { id previousEventId timestamp type state node mapIndex resource payload error cause }
  states { node name mapIndex status retries enteredAt exitedAt input output error cause }`;

/** The Map iterations present in a history: sorted distinct mapIndex values. */
export function mapIterations(events) {
  return [...new Set(events.map((e) => e.mapIndex).filter((i) => i !== null && i !== undefined))].sort((a, b) => a - b);
}

/** Whether an item (event or state run) belongs to Map iteration `iteration` ('all': every one). */
export function inIteration(item, iteration) {
  return iteration === 'all' || item.mapIndex === null || item.mapIndex === undefined || String(item.mapIndex) === iteration;
}

/** The execution page; returns a function that stops its subscription. */
export async function executionPage(main, id) {
  let execution = null;
  let graph = null;
  let selected = null;
  let iteration = 'all';
  let unsubscribe = () => {};
  let reloading = null;

  const header = h('div', { class: 'execution-header' });
  const graphBox = h('div', { class: 'graph-box' });
  const detail = h('aside', { class: 'state-detail' });
  const timeline = h('section', { class: 'timeline' });
  replace(main, header, h('div', { class: 'machine-layout' }, h('div', { class: 'machine-graph' }, graphBox), detail), timeline);

  const load = async () => {
    const data = await request(`query Execution($id: ID!) { execution(id: $id) { ${EXECUTION_FIELDS} } }`, { id });
    execution = data.execution;
    if (!execution) {
      replace(main, errorBox(`No execution ${id} (it may have left the journal).`));
      return false;
    }
    if (!graph) {
      const m = await request(`query Graph($name: String!) { stateMachine(name: $name) { ${GRAPH_FIELDS} } }`, { name: execution.stateMachine });
      graph = m.stateMachine?.graph ?? { startAt: '', nodes: [], branches: [], edges: [] };
    }
    if (selected === null) selected = failingNode(execution)?.node ?? null;
    draw();
    return true;
  };
  // Events come fast: reload at most every 300 ms while running.
  const reload = () => {
    reloading ??= setTimeout(() => {
      reloading = null;
      load().catch((err) => replace(header, errorBox(err)));
    }, 300);
  };

  function draw() {
    const e = execution;
    replace(header,
      h('h2', {}, 'Execution ', h('span', { class: 'execution-name' }, e.name), ' ', statusPill(e.status)),
      h('dl', { class: 'facts inline' },
        h('dt', {}, 'State machine'), h('dd', {}, h('a', { href: machineHref(e.stateMachine) }, e.stateMachine)),
        h('dt', {}, 'Source'), h('dd', {}, e.source),
        e.key ? [h('dt', {}, 'Key'), h('dd', {}, e.key)] : null,
        h('dt', {}, 'Started'), h('dd', {}, fmtTime(e.startDate)),
        h('dt', {}, 'Duration'), h('dd', {}, fmtMs(e.durationMs)),
        e.error ? [h('dt', {}, 'Error'), h('dd', { class: 'error-text execution-error' }, e.error)] : null,
        e.cause ? [h('dt', {}, 'Cause'), h('dd', { class: 'error-text execution-cause' }, e.cause)] : null),
      e.status === 'RUNNING' ? stopButton(e.id, () => reload()) : null,
      e.historyRecorded ? null : h('p', { class: 'muted' }, 'This execution was not sampled for history: only its summary is known.'));
    // With a Map iteration picked, the graph shows that iteration's path.
    const runs = e.states.filter((r) => inIteration(r, iteration));
    replace(graphBox, renderGraph(graph, { runs, execution: e, selected, onSelect: (n) => ((selected = n.id), draw()) }));
    drawDetail();
    drawTimeline();
  }

  function drawDetail() {
    const e = execution;
    // A failed execution's error belongs to its failing state when the
    // state's own run does not carry it (a Fail state's error is the
    // execution's).
    const failing = failingNode(e);
    const runs = e.states.filter((r) => r.node === selected && inIteration(r, iteration))
      .map((r) => (r === failing && !r.error && e.error ? { ...r, error: e.error, cause: r.cause ?? e.cause } : r));
    const node = graph.nodes.find((n) => n.id === selected);
    if (!node) {
      replace(detail, h('h3', {}, 'Execution'), h('h4', {}, 'Input'), jsonBlock(e.input), h('h4', {}, 'Output'), jsonBlock(e.output),
        h('p', { class: 'muted' }, 'Click a state for its input, output and errors.'));
      return;
    }
    replace(detail, h('h3', { class: 'selected-state' }, node.name, ' ', h('span', { class: 'muted small' }, node.type)),
      runs.length ? null : h('p', { class: 'muted' }, 'Not entered in this execution.'),
      runs.map((r) => h('div', { class: `state-run run-${r.status.toLowerCase()}`, 'data-node': r.node },
        h('dl', { class: 'facts' },
          h('dt', {}, 'Status'), h('dd', {}, statusPill(r.status)),
          r.mapIndex !== null && r.mapIndex !== undefined ? [h('dt', {}, 'Map iteration'), h('dd', {}, String(r.mapIndex))] : null,
          h('dt', {}, 'Retries'), h('dd', {}, String(r.retries)),
          h('dt', {}, 'Entered'), h('dd', {}, fmtTime(r.enteredAt)),
          h('dt', {}, 'Exited'), h('dd', {}, fmtTime(r.exitedAt)),
          r.error ? [h('dt', {}, 'Error'), h('dd', { class: 'error-text state-error' }, r.error)] : null,
          r.cause ? [h('dt', {}, 'Cause'), h('dd', { class: 'error-text state-cause' }, r.cause)] : null),
        h('h4', {}, 'Input'), jsonBlock(r.input), h('h4', {}, 'Output'), jsonBlock(r.output))));
  }

  function drawTimeline() {
    const events = execution.history;
    const iterations = mapIterations(events);
    const picker = iterations.length
      ? h('label', { class: 'iteration-picker' }, 'Map iteration ',
        h('select', { name: 'map-iteration', onchange: (ev) => ((iteration = ev.target.value), draw()) },
          h('option', { value: 'all', selected: iteration === 'all' }, 'all'),
          iterations.map((i) => h('option', { value: String(i), selected: iteration === String(i) }, String(i)))))
      : null;
    const shown = events.filter((e) => inIteration(e, iteration));
    const t0 = events.length ? new Date(events[0].timestamp).getTime() : 0;
    replace(timeline, h('h3', {}, `History (${events.length} events)`), picker,
      h('table', { class: 'grid history' },
        h('thead', {}, h('tr', {}, ['#', 'time', '+ms', 'type', 'state', 'iteration', 'detail'].map((t) => h('th', {}, t)))),
        h('tbody', {}, shown.map((ev) => h('tr', { class: `event ${/Failed|TimedOut|Aborted/.test(ev.type) ? 'event-failed' : ''}`, 'data-type': ev.type },
          h('td', {}, String(ev.id)), h('td', {}, fmtTime(ev.timestamp)),
          h('td', {}, String(new Date(ev.timestamp).getTime() - t0)),
          h('td', {}, ev.type),
          h('td', {}, ev.node ? h('a', { href: '#', onclick: (e) => { e.preventDefault(); selected = ev.node; draw(); } }, ev.state ?? ev.node) : ev.state ?? ''),
          h('td', {}, ev.mapIndex ?? ''),
          h('td', {}, ev.error ? h('span', { class: 'error-text' }, [ev.error, ev.cause].filter(Boolean).join(': ')) : ev.payload ? h('details', {}, h('summary', {}, 'data'), jsonBlock(ev.payload)) : ev.resource ?? ''))))));
  }

  if (!(await load())) return () => {};
  // Without the subscription, poll once a second until the execution ends.
  let polling = null;
  const poll = () => {
    polling = setTimeout(async () => {
      await load().catch(() => {});
      if (execution?.status === 'RUNNING') poll();
    }, 1000);
  };
  if (execution.status === 'RUNNING') {
    unsubscribe = subscribe('subscription Events($id: ID!) { executionEvents(id: $id) { id type } }', { id }, {
      next: reload,
      complete: reload,
      error: () => {
        reload();
        poll();
      },
    });
  }
  return () => {
    unsubscribe();
    clearTimeout(reloading);
    clearTimeout(polling);
  };
}
