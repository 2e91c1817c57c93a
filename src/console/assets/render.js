// Draws a laid-out graph (layout.js) as SVG: Map and Parallel states as
// boxes holding their branches, edges with their Choice and Catch labels
// (Catch dashed, loops back drawn on the right), a Retry badge on a state
// that retries, a red marker with a tooltip on a state a diagnostic
// concerns, and, for an execution, each state coloured by its outcome,
// its retry count and, on the failing state, its error.

import { layoutGraph, subtitle, truncate, SIZE } from './layout.js';
import { svg } from './dom.js';

/** The outcome of a state from its runs: FAILED over CAUGHT over RUNNING over SUCCEEDED. */
export function outcomeOf(runs) {
  for (const s of ['FAILED', 'CAUGHT', 'RUNNING', 'SUCCEEDED']) {
    if (runs.some((r) => r.status === s)) return s;
  }
  return null;
}

/**
 * The node the execution failed at: the last state run that FAILED, else
 * (a failed execution whose runs do not say) the last state entered.
 */
export function failingNode(execution) {
  const runs = execution?.states ?? [];
  const failed = runs.filter((r) => r.status === 'FAILED');
  if (failed.length) return failed[failed.length - 1];
  if (['FAILED', 'TIMED_OUT', 'ABORTED'].includes(execution?.status) && runs.length) return runs[runs.length - 1];
  return null;
}

/**
 * The transitions taken, as "from→to": consecutive runs in the same scope
 * (the same branch and Map iteration), so a Parallel's branches, run
 * interleaved, do not hide the step after the Parallel state.
 */
export function takenEdges(runs, graph) {
  const branchOf = new Map(graph.nodes.map((n) => [n.id, n.branch ?? '']));
  const taken = new Set();
  const last = new Map();
  for (const r of runs) {
    const key = `${branchOf.get(r.node) ?? ''}#${r.mapIndex ?? ''}`;
    const prev = last.get(key);
    if (prev) taken.add(`${prev}→${r.node}`);
    last.set(key, r.node);
  }
  return taken;
}

const retryText = (rules) =>
  rules
    .map((r) => {
      const bits = [r.errorEquals.join(', ')];
      if (r.maxAttempts !== null && r.maxAttempts !== undefined) bits.push(`max ${r.maxAttempts}`);
      if (r.intervalSeconds !== null && r.intervalSeconds !== undefined) bits.push(`every ${r.intervalSeconds} s`);
      if (r.backoffRate !== null && r.backoffRate !== undefined) bits.push(`×${r.backoffRate}`);
      return `Retry ${bits.join(', ')}`;
    })
    .join('\n');

/** An SVG path through `points`: curves for forward edges, corners for back edges. */
function pathOf(points, back) {
  let d = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length; i++) {
    const [p, q] = [points[i - 1], points[i]];
    if (back || p.x === q.x) d += ` L${q.x},${q.y}`;
    else {
      const my = (p.y + q.y) / 2;
      d += ` C${p.x},${my} ${q.x},${my} ${q.x},${q.y}`;
    }
  }
  return d;
}

/**
 * The SVG of `graph`. Options: `diagnostics` ([Diagnostic]), `runs`
 * ([StateRun], an execution's path), `execution` (for its failing state),
 * `selected` (node id), `onSelect(node)`.
 */
export function renderGraph(graph, { diagnostics = [], runs = null, execution = null, selected = null, onSelect = null } = {}) {
  const layout = layoutGraph(graph);
  const byNode = new Map();
  for (const r of runs ?? []) {
    if (!byNode.has(r.node)) byNode.set(r.node, []);
    byNode.get(r.node).push(r);
  }
  const failing = execution ? failingNode(execution) : null;
  const taken = runs ? takenEdges(runs, graph) : new Set();
  const diagnosticsOf = new Map();
  for (const d of diagnostics) {
    if (!d.node) continue;
    if (!diagnosticsOf.has(d.node)) diagnosticsOf.set(d.node, []);
    diagnosticsOf.get(d.node).push(d);
  }

  const root = svg('svg', {
    class: `graph${runs ? ' with-path' : ''}`,
    viewBox: `0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height + (failing ? 40 : 0))}`,
    width: Math.ceil(layout.width),
    height: Math.ceil(layout.height + (failing ? 40 : 0)),
    role: 'img',
    'aria-label': 'state machine graph',
  });
  root.append(
    svg('defs', {},
      ['arrow', 'arrow-catch', 'arrow-taken'].map((id) =>
        svg('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
          svg('path', { d: 'M0,0 L10,5 L0,10 z', class: `marker ${id}` })))),
  );

  const containers = svg('g', { class: 'containers' });
  const edges = svg('g', { class: 'edges' });
  const labels = svg('g', { class: 'edge-labels' });
  const nodes = svg('g', { class: 'nodes' });
  root.append(containers, edges, nodes, labels);

  for (const box of layout.nodes.values()) {
    const node = box.node;
    const nodeRuns = byNode.get(node.id) ?? [];
    const outcome = outcomeOf(nodeRuns);
    const container = layout.branches.size && [...layout.branches.values()].some((b) => b.branch.state === node.id);
    const classes = ['node', `node-${node.type.toLowerCase()}`];
    if (container) classes.push('container');
    if (outcome) classes.push('visited', `outcome-${outcome.toLowerCase()}`);
    if (failing && failing.node === node.id) classes.push('failing');
    if (selected === node.id) classes.push('selected');
    const g = svg('g', {
      class: classes.join(' '),
      transform: `translate(${box.x},${box.y})`,
      'data-node': node.id,
      'data-name': node.name,
      'data-type': node.type,
      'data-outcome': outcome ?? null,
      tabindex: onSelect ? 0 : null,
    });
    g.append(svg('title', {}, [node.name, node.comment].filter(Boolean).join('\n')));
    g.append(svg('rect', { class: 'box', width: box.w, height: box.h, rx: container ? 10 : 8 }));
    const cx = box.w / 2;
    g.append(svg('text', { class: 'name', x: cx, y: container ? 19 : 19, 'text-anchor': 'middle' }, truncate(node.name, SIZE.maxNameChars)));
    g.append(svg('text', { class: 'type', x: cx, y: container ? 35 : 35, 'text-anchor': 'middle' }, subtitle(node)));
    if (node.retry?.length) {
      const n = node.retry.reduce((s, r) => s + (r.maxAttempts ?? 3), 0);
      g.append(svg('g', { class: 'retry-badge', transform: `translate(${box.w - 30},-9)` },
        svg('title', {}, retryText(node.retry)),
        svg('rect', { width: 36, height: 18, rx: 9 }),
        svg('text', { x: 18, y: 13, 'text-anchor': 'middle' }, `↻${n}`)));
    }
    const diags = diagnosticsOf.get(node.id);
    if (diags) {
      const worst = diags.some((d) => d.severity.toLowerCase() === 'error') ? 'error' : 'warning';
      g.classList.add(`has-${worst}`);
      g.append(svg('g', { class: `diagnostic-marker ${worst}`, transform: 'translate(-8,-8)' },
        svg('title', {}, diags.map((d) => `${d.severity} ${d.code}: ${d.message}`).join('\n')),
        svg('circle', { cx: 8, cy: 8, r: 9 }),
        svg('text', { x: 8, y: 12.5, 'text-anchor': 'middle' }, '!')));
    }
    const retries = nodeRuns.reduce((s, r) => s + (r.retries ?? 0), 0);
    if (retries) {
      g.append(svg('g', { class: 'run-retries', transform: `translate(-10,${box.h - 9})` },
        svg('title', {}, `${retries} retries`),
        svg('rect', { width: 52, height: 18, rx: 9 }),
        svg('text', { x: 26, y: 13, 'text-anchor': 'middle' }, `${retries} retr.`)));
    }
    if (nodeRuns.length > 1) {
      g.append(svg('text', { class: 'run-count', x: box.w - 6, y: box.h - 6, 'text-anchor': 'end' }, `×${nodeRuns.length}`));
    }
    if (onSelect) {
      g.addEventListener('click', (e) => {
        e.stopPropagation();
        onSelect(node);
      });
      g.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') onSelect(node);
      });
    }
    (container ? containers : nodes).append(g);
    if (node.start && !node.branch) {
      containers.append(svg('circle', { class: 'start-marker', cx: box.x + cx, cy: box.y - 26, r: 6 }),
        svg('line', { class: 'start-line', x1: box.x + cx, y1: box.y - 20, x2: box.x + cx, y2: box.y - 2, 'marker-end': 'url(#arrow)' }));
    }
  }

  for (const b of layout.branches.values()) {
    containers.append(svg('rect', { class: 'branch', 'data-branch': b.id, x: b.x, y: b.y, width: b.w, height: b.h, rx: 6 }));
  }

  for (const e of layout.edges) {
    const isTaken = taken.has(`${e.from}→${e.to}`);
    const cls = ['edge', `edge-${e.kind.toLowerCase()}`];
    if (e.back) cls.push('back');
    if (isTaken) cls.push('taken');
    const marker = isTaken ? 'arrow-taken' : e.kind === 'CATCH' ? 'arrow-catch' : 'arrow';
    edges.append(svg('path', { class: cls.join(' '), d: pathOf(e.points, e.back), 'data-from': e.from, 'data-to': e.to, 'marker-end': `url(#${marker})` }));
    if (e.labelBox) {
      const l = e.labelBox;
      labels.append(svg('g', { class: `edge-label edge-label-${e.kind.toLowerCase()}`, 'data-from': e.from, 'data-to': e.to },
        svg('title', {}, e.label),
        svg('rect', { x: l.x, y: l.y, width: l.w, height: l.h, rx: 3 }),
        svg('text', { x: l.x + l.w / 2, y: l.y + l.h - 4.5, 'text-anchor': 'middle' }, l.text)));
    }
  }

  if (failing) {
    const box = layout.nodes.get(failing.node);
    if (box) {
      const text = [failing.error ?? execution.error, failing.cause ?? execution.cause].filter(Boolean).join(': ') || execution.status;
      const shown = `⚠ ${truncate(text, 48)}`;
      const w = shown.length * SIZE.labelCharWidth + 12;
      const x = Math.max(4, Math.min(box.x, layout.width - w - 4));
      labels.append(svg('g', { class: 'node-error', 'data-node': failing.node },
        svg('title', {}, text),
        svg('rect', { x, y: box.y + box.h + 4, width: w, height: 20, rx: 4 }),
        svg('text', { x: x + 6, y: box.y + box.h + 18 }, shown)));
    }
  }
  return root;
}
