// The live view: throughput, latency percentiles and failures per state
// machine and pipeline, updated every second from the `metricsTick`
// subscription (polling the `metrics` query when the subscription is
// refused), and a sampled tail of finished executions.

import { h, svg, replace, fmtMs, fmtRate, fmtTime, statusPill } from './dom.js';
import { request, subscribe } from './graphql.js';
import { executionHref } from './router.js';

const TICK_FIELDS = `at stateMachine started succeeded failed timedOut aborted p50 p90 p99
  pipelines { name eventsPerSecond deadLettersPerSecond p50 p99 lag }`;

/** How many seconds the sparkline shows. */
const HISTORY = 60;
/** Most tail rows shown, and most added per second (the sample). */
const TAIL_ROWS = 15;
const TAIL_PER_SECOND = 4;

/** A sparkline of `values` (numbers), scaled to its maximum. */
export function sparkline(values, { width = 240, height = 40, cls = '' } = {}) {
  const max = Math.max(1, ...values);
  const step = width / Math.max(1, HISTORY - 1);
  const offset = HISTORY - values.length;
  // The top 12 units hold the scale's text.
  const pts = values.map((v, i) => `${((offset + i) * step).toFixed(1)},${(height - 1 - (v / max) * (height - 14)).toFixed(1)}`);
  return svg('svg', { class: `sparkline ${cls}`, width, height, viewBox: `0 0 ${width} ${height}` },
    svg('polyline', { points: pts.join(' ') }),
    svg('text', { x: width - 2, y: 10, 'text-anchor': 'end' }, `max ${fmtRate(max)}/s`));
}

/** Calls `fn(tick)` once a second for `stateMachine`; returns a stop function. */
export function watchMetrics(stateMachine, fn) {
  let stopped = false;
  let timer = null;
  const poll = async () => {
    if (stopped) return;
    try {
      const data = await request(`query Metrics($m: String) { metrics(stateMachine: $m) { ${TICK_FIELDS} } }`, { m: stateMachine });
      if (!stopped) fn(data.metrics, null);
    } catch (err) {
      if (!stopped) fn(null, err);
    }
    if (!stopped) timer = setTimeout(poll, 1000);
  };
  const unsubscribe = subscribe(`subscription Tick($m: String) { metricsTick(stateMachine: $m) { ${TICK_FIELDS} } }`, { m: stateMachine }, {
    next: (data) => fn(data.metricsTick, null),
    error: () => poll(),
  });
  return () => {
    stopped = true;
    clearTimeout(timer);
    unsubscribe();
  };
}

/** The live panel of one state machine (or all when `stateMachine` is null); returns {el, stop}. */
export function livePanel(stateMachine) {
  const history = { started: [], failed: [] };
  const numbers = h('div', { class: 'live-numbers' }, 'Waiting for the first tick…');
  const chart = h('div', { class: 'live-chart' });
  const pipelines = h('div', { class: 'live-pipelines' });
  const stop = watchMetrics(stateMachine, (tick, err) => {
    if (err) {
      replace(numbers, h('span', { class: 'error-text' }, `metrics unavailable: ${err.message}`));
      return;
    }
    for (const k of ['started', 'failed']) {
      history[k].push(k === 'failed' ? tick.failed + tick.timedOut + tick.aborted : tick.started);
      if (history[k].length > HISTORY) history[k].shift();
    }
    const cell = (label, value, cls = '') => h('div', { class: `metric ${cls}` }, h('span', { class: 'metric-value' }, value), h('span', { class: 'metric-label' }, label));
    replace(numbers,
      cell('started/s', fmtRate(tick.started), 'metric-started'),
      cell('succeeded/s', fmtRate(tick.succeeded), 'metric-succeeded'),
      cell('failed/s', fmtRate(tick.failed), tick.failed ? 'metric-failed bad' : 'metric-failed'),
      cell('timed out/s', fmtRate(tick.timedOut)),
      cell('aborted/s', fmtRate(tick.aborted)),
      cell('p50', fmtMs(tick.p50)), cell('p90', fmtMs(tick.p90)), cell('p99', fmtMs(tick.p99)),
      h('div', { class: 'metric-at muted' }, `at ${fmtTime(tick.at)}`));
    replace(chart,
      h('div', {}, h('span', { class: 'muted' }, 'started/s, last minute'), sparkline(history.started)),
      h('div', {}, h('span', { class: 'muted' }, 'failed/s'), sparkline(history.failed, { cls: 'bad' })));
    replace(pipelines, tick.pipelines.length
      ? h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['pipeline', 'events/s', 'dead letters/s', 'p50', 'p99', 'lag'].map((t) => h('th', {}, t)))),
        h('tbody', {}, tick.pipelines.map((p) => h('tr', { 'data-pipeline': p.name },
          h('td', {}, p.name), h('td', {}, fmtRate(p.eventsPerSecond)), h('td', {}, fmtRate(p.deadLettersPerSecond)),
          h('td', {}, fmtMs(p.p50)), h('td', {}, fmtMs(p.p99)), h('td', {}, p.lag ?? '–')))))
      : null);
  });
  return { el: h('section', { class: 'live-panel' }, numbers, chart, pipelines), stop };
}

/** The sampled tail of finished executions; returns {el, stop}. */
export function liveTail(stateMachine) {
  const body = h('tbody');
  const note = h('p', { class: 'muted' }, `Sampled: at most ${TAIL_PER_SECOND} executions a second.`);
  let second = 0;
  let shown = 0;
  const stop = subscribe(
    `subscription Tail($m: String) { executionStatusChanged(stateMachine: $m) { id name stateMachine status key durationMs error } }`,
    { m: stateMachine },
    {
      next: (data) => {
        const e = data.executionStatusChanged;
        const now = Math.floor(Date.now() / 1000);
        if (now !== second) [second, shown] = [now, 0];
        if (shown >= TAIL_PER_SECOND) return;
        shown++;
        body.prepend(h('tr', { class: `tail-row status-row-${e.status.toLowerCase()}` },
          h('td', {}, statusPill(e.status)),
          h('td', {}, h('a', { href: executionHref(e.id) }, e.name)),
          stateMachine ? null : h('td', {}, e.stateMachine),
          h('td', {}, fmtMs(e.durationMs)),
          h('td', {}, e.key ?? '–'),
          h('td', { class: 'error-text' }, e.error ?? '')));
        while (body.children.length > TAIL_ROWS) body.lastElementChild.remove();
      },
      error: (err) => note.replaceChildren(`Live tail unavailable: ${err.message}`),
    },
  );
  const heads = ['status', 'execution', stateMachine ? null : 'state machine', 'duration', 'key', 'error'].filter(Boolean);
  return {
    el: h('section', { class: 'live-tail' }, h('h3', {}, 'Live tail'), note,
      h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, heads.map((t) => h('th', {}, t)))), body)),
    stop,
  };
}

/** The live page: all machines, each machine's panel, and the tail. */
export async function livePage(main) {
  const stops = [];
  const all = livePanel(null);
  stops.push(all.stop);
  replace(main, h('h2', {}, 'Live'), h('h3', {}, 'All state machines'), all.el);
  let data;
  try {
    data = await request('{ stateMachines { name } }');
  } catch (err) {
    all.stop();
    throw err;
  }
  for (const m of data.stateMachines) {
    const panel = livePanel(m.name);
    stops.push(panel.stop);
    main.append(h('h3', {}, m.name), panel.el);
  }
  const tail = liveTail(null);
  stops.push(tail.stop);
  main.append(tail.el);
  return () => stops.forEach((s) => s());
}
