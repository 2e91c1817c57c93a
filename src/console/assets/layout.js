// Automatic layered layout of a state-machine graph (the GraphQL `Graph`:
// nodes, branches, edges). Pure functions, no DOM: `layoutGraph(graph)`
// returns boxes and edge routes in SVG user units, top to bottom.
//
// Each scope (the top level, or one branch of a Map or Parallel state) is
// laid out on its own: states are ranked by their longest path from the
// scope's start (edges that loop back to a state on the current path are
// back edges, drawn beside the ranks they span); edges spanning several ranks
// pass through virtual points; a few barycentre sweeps order each rank to
// reduce crossings; x positions follow the neighbours' while keeping the
// order and the gaps. A Map or Parallel state is a box holding its branches'
// layouts side by side.

/** Sizes in SVG units. */
export const SIZE = {
  nodeHeight: 44,
  minNodeWidth: 112,
  charWidth: 7.4,
  nodePadding: 16,
  maxNameChars: 28,
  nodeGap: 28,
  virtualGap: 12,
  rankGap: 64,
  headerHeight: 48,
  branchPadding: 14,
  branchGap: 16,
  laneGap: 14,
  labelCharWidth: 6.4,
  labelHeight: 16,
  maxLabelChars: 30,
  margin: 24,
  startMargin: 40,
};

/** `text` cut to `max` characters, with an ellipsis when cut. */
export function truncate(text, max) {
  const s = String(text ?? '');
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** The second line of a node: its type, and a Task's short resource. */
export function subtitle(node) {
  if (node.type === 'Task' && node.resource) {
    const short = node.resource.replace(/^arn:[^:]*:[^:]*:[^:]*:[^:]*:/, '');
    return truncate(`Task · ${short}`, SIZE.maxNameChars + 4);
  }
  return node.type;
}

/** Lays out `graph`; see the module comment. */
export function layoutGraph(graph) {
  const index = indexGraph(graph);
  const top = layoutScope(index, '', topStart(index, graph.startAt));
  const out = { nodes: new Map(), branches: new Map(), edges: [], ranks: new Map() };
  place(index, top, SIZE.margin, SIZE.startMargin, out);
  return {
    width: top.width + 2 * SIZE.margin,
    height: top.height + SIZE.startMargin + SIZE.margin,
    nodes: out.nodes,
    branches: out.branches,
    edges: out.edges,
    ranks: out.ranks,
  };
}

/** Nodes by id, the node ids of each scope, branches by state, edges by scope. */
function indexGraph(graph) {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const scopes = new Map();
  for (const n of graph.nodes) {
    const key = n.branch ?? '';
    if (!scopes.has(key)) scopes.set(key, []);
    scopes.get(key).push(n.id);
  }
  const branchesOf = new Map();
  const branches = new Map();
  for (const b of graph.branches ?? []) {
    branches.set(b.id, b);
    if (!branchesOf.has(b.state)) branchesOf.set(b.state, []);
    branchesOf.get(b.state).push(b);
  }
  for (const list of branchesOf.values()) list.sort((a, b) => a.index - b.index);
  const edges = new Map();
  for (const e of graph.edges) {
    const from = nodes.get(e.from);
    const to = nodes.get(e.to);
    // ASL keeps transitions inside their branch; anything else is not drawn.
    if (!from || !to || (from.branch ?? '') !== (to.branch ?? '')) continue;
    const key = from.branch ?? '';
    if (!edges.has(key)) edges.set(key, []);
    edges.get(key).push(e);
  }
  return { nodes, scopes, branches, branchesOf, edges };
}

/** The id of the top level's start node (`startAt` may be an id or a name). */
function topStart(index, startAt) {
  const ids = index.scopes.get('') ?? [];
  return (
    ids.find((id) => id === startAt) ??
    ids.find((id) => index.nodes.get(id).name === startAt) ??
    ids.find((id) => index.nodes.get(id).start) ??
    ids[0]
  );
}

/** The size of a node alone (without branches). */
function textWidth(node) {
  const chars = Math.max(
    Math.min(node.name.length, SIZE.maxNameChars),
    subtitle(node).length * 0.85,
  );
  return Math.max(SIZE.minNodeWidth, Math.ceil(chars * SIZE.charWidth + 2 * SIZE.nodePadding));
}

/**
 * Ranks the nodes `ids` of one scope: a depth-first search from `start`
 * (then from any node not reached) marks edges to a node on the search
 * path as back edges; the other edges form a DAG whose longest paths give
 * the ranks. Catch edges are followed after the others, so a loop is
 * broken along the normal flow. Returns {rank, back, order}.
 */
export function rankScope(ids, edges, start) {
  const out = new Map(ids.map((id) => [id, []]));
  for (const e of edges) out.get(e.from)?.push(e);
  for (const list of out.values()) {
    list.sort((a, b) => (a.kind === 'CATCH') - (b.kind === 'CATCH'));
  }
  const state = new Map();
  const back = new Set();
  const postorder = [];
  const roots = start !== undefined ? [start, ...ids.filter((id) => id !== start)] : ids;
  for (const root of roots) {
    if (state.has(root)) continue;
    state.set(root, 1);
    const stack = [{ id: root, next: 0 }];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const list = out.get(top.id);
      if (top.next < list.length) {
        const e = list[top.next++];
        const s = state.get(e.to);
        if (s === 1) back.add(e);
        else if (s === undefined) {
          state.set(e.to, 1);
          stack.push({ id: e.to, next: 0 });
        }
      } else {
        state.set(top.id, 2);
        postorder.push(top.id);
        stack.pop();
      }
    }
  }
  const order = postorder.reverse();
  const rank = new Map(ids.map((id) => [id, 0]));
  for (const id of order) {
    for (const e of out.get(id)) {
      if (!back.has(e)) rank.set(e.to, Math.max(rank.get(e.to), rank.get(id) + 1));
    }
  }
  return { rank, back, order };
}

/** The number of crossings between consecutive layers, given segments. */
export function countCrossings(layers, segments) {
  const pos = new Map();
  for (const layer of layers) layer.forEach((item, i) => pos.set(item, i));
  const byLayer = new Map();
  for (const [a, b] of segments) {
    const key = a.rank;
    if (!byLayer.has(key)) byLayer.set(key, []);
    byLayer.get(key).push([pos.get(a), pos.get(b)]);
  }
  let crossings = 0;
  for (const list of byLayer.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const [a1, b1] = list[i];
        const [a2, b2] = list[j];
        if ((a1 - a2) * (b1 - b2) < 0) crossings++;
      }
    }
  }
  return crossings;
}

/** Lays out one scope; coordinates relative to its top-left corner. */
function layoutScope(index, key, start) {
  const ids = index.scopes.get(key) ?? [];
  const edges = index.edges.get(key) ?? [];
  const startId = start ?? ids.find((id) => index.nodes.get(id).start) ?? ids[0];
  const { rank, back, order } = rankScope(ids, edges, startId);

  // Items: one per node, sized (nested scopes first), plus virtual points.
  const items = new Map();
  for (const id of ids) {
    const node = index.nodes.get(id);
    const item = { id, node, rank: rank.get(id), w: textWidth(node), h: SIZE.nodeHeight, up: [], down: [] };
    const subs = index.branchesOf.get(id);
    if (subs && subs.length) {
      item.subs = subs.map((b) => ({ branch: b, layout: layoutScope(index, b.id, b.startAt) }));
      const p = SIZE.branchPadding;
      const inner = item.subs.reduce((sum, s) => sum + s.layout.width + 2 * p, 0) + SIZE.branchGap * (item.subs.length - 1);
      item.w = Math.max(item.w, inner + 2 * p);
      item.h = SIZE.headerHeight + Math.max(...item.subs.map((s) => s.layout.height + 2 * p)) + p;
    }
    items.set(id, item);
  }
  const forward = edges.filter((e) => !back.has(e));
  const chains = new Map();
  for (const e of forward) {
    const chain = [items.get(e.from)];
    for (let r = rank.get(e.from) + 1; r < rank.get(e.to); r++) {
      chain.push({ virtual: true, rank: r, w: 2, h: 0, up: [], down: [] });
    }
    chain.push(items.get(e.to));
    for (let i = 0; i + 1 < chain.length; i++) {
      chain[i].down.push(chain[i + 1]);
      chain[i + 1].up.push(chain[i]);
    }
    chains.set(e, chain);
  }

  // Layers, first in search order, then barycentre sweeps; the order with
  // the fewest crossings wins.
  const depth = Math.max(-1, ...[...items.values()].map((i) => i.rank)) + 1;
  const layers = Array.from({ length: depth }, () => []);
  const position = new Map(order.map((id, i) => [id, i]));
  for (const id of [...ids].sort((a, b) => position.get(a) - position.get(b))) {
    layers[rank.get(id)].push(items.get(id));
  }
  for (const chain of chains.values()) {
    for (const item of chain) if (item.virtual) layers[item.rank].push(item);
  }
  const segments = [];
  for (const layer of layers) for (const a of layer) for (const b of a.down) segments.push([a, b]);
  let best = layers.map((l) => [...l]);
  let fewest = countCrossings(layers, segments);
  for (let sweep = 0; sweep < 6 && fewest > 0; sweep++) {
    const down = sweep % 2 === 0;
    for (let k = 1; k < depth; k++) {
      const r = down ? k : depth - 1 - k;
      const near = layers[down ? r - 1 : r + 1];
      const at = new Map(near.map((item, i) => [item, i]));
      const bary = new Map(
        layers[r].map((item, i) => {
          const ns = (down ? item.up : item.down).filter((n) => at.has(n));
          return [item, ns.length ? ns.reduce((s, n) => s + at.get(n), 0) / ns.length : i];
        }),
      );
      layers[r].sort((a, b) => bary.get(a) - bary.get(b));
    }
    const c = countCrossings(layers, segments);
    if (c < fewest) {
      fewest = c;
      best = layers.map((l) => [...l]);
    }
  }

  // Heights and y of the ranks.
  const rankTop = [];
  const rankHeight = [];
  let y = 0;
  for (let r = 0; r < depth; r++) {
    const real = best[r].filter((i) => !i.virtual);
    rankHeight[r] = real.length ? Math.max(...real.map((i) => i.h)) : SIZE.labelHeight;
    rankTop[r] = y;
    y += rankHeight[r] + SIZE.rankGap;
  }
  const height = depth ? y - SIZE.rankGap : 0;
  for (let r = 0; r < depth; r++) {
    for (const item of best[r]) item.y = rankTop[r] + (rankHeight[r] - item.h) / 2;
  }

  // x: packed, then pulled toward the neighbours' centres, down and up.
  const gap = (a, b) => (a.virtual || b.virtual ? SIZE.virtualGap : SIZE.nodeGap);
  const pack = (layer, desired) => {
    const n = layer.length;
    const left = new Array(n);
    const right = new Array(n);
    for (let i = 0; i < n; i++) {
      const min = i ? left[i - 1] + layer[i - 1].w / 2 + gap(layer[i - 1], layer[i]) + layer[i].w / 2 : -Infinity;
      left[i] = Math.max(desired[i], min);
    }
    for (let i = n - 1; i >= 0; i--) {
      const max = i < n - 1 ? right[i + 1] - layer[i + 1].w / 2 - gap(layer[i], layer[i + 1]) - layer[i].w / 2 : Infinity;
      right[i] = Math.min(desired[i], max);
    }
    // Both keep the order and the gaps, so their mean does too.
    layer.forEach((item, i) => (item.cx = (left[i] + right[i]) / 2));
  };
  for (const layer of best) {
    let x = 0;
    pack(layer, layer.map((item) => {
      const c = x + item.w / 2;
      x += item.w + SIZE.nodeGap;
      return c;
    }));
  }
  const mean = (list) => list.reduce((s, n) => s + n.cx, 0) / list.length;
  for (let pass = 0; pass < 4; pass++) {
    const down = pass % 2 === 0;
    for (let k = 1; k < depth; k++) {
      const r = down ? k : depth - 1 - k;
      const layer = best[r];
      pack(layer, layer.map((item) => {
        const ns = down ? item.up : item.down;
        return ns.length ? mean(ns) : item.cx;
      }));
    }
  }
  const all = best.flat();
  const minX = Math.min(0, ...all.map((i) => i.cx - i.w / 2));
  for (const item of all) {
    item.cx -= minX;
    item.x = item.cx - item.w / 2;
  }
  let width = Math.max(0, ...all.map((i) => i.x + i.w));

  // Routes: forward edges leave the bottom of their source and enter the
  // top of their target, spread when several share an end.
  const ports = (item, list, side) => {
    const sorted = [...list].sort((a, b) => a.other.cx - b.other.cx);
    const step = Math.min(14, (item.w - 24) / Math.max(1, sorted.length));
    sorted.forEach((p, i) => p.set(item.cx + (i - (sorted.length - 1) / 2) * step, side));
  };
  const routes = new Map();
  const outs = new Map();
  const ins = new Map();
  for (const [e, chain] of chains) {
    const route = { start: null, end: null, middle: [] };
    routes.set(e, route);
    const first = chain[0];
    const last = chain[chain.length - 1];
    if (!outs.has(first)) outs.set(first, []);
    outs.get(first).push({ other: chain[1], set: (x) => (route.start = { x, y: first.y + first.h }) });
    if (!ins.has(last)) ins.set(last, []);
    ins.get(last).push({ other: chain[chain.length - 2], set: (x) => (route.end = { x, y: last.y }) });
    for (const v of chain.slice(1, -1)) {
      route.middle.push({ x: v.cx, y: rankTop[v.rank] }, { x: v.cx, y: rankTop[v.rank] + rankHeight[v.rank] });
    }
  }
  for (const [item, list] of outs) ports(item, list, 'out');
  for (const [item, list] of ins) ports(item, list, 'in');
  const routed = [];
  for (const [e, route] of routes) {
    routed.push({ edge: e, back: false, points: [route.start, ...route.middle, route.end] });
  }
  // Back edges: down into the gap below the source, out to a lane of
  // their own beside the ranks they span (on the side nearer to their
  // states), up to the gap above the target, and down into it: no state is
  // crossed.
  const lanes = { left: 0, right: 0 };
  for (const e of edges.filter((e) => back.has(e))) {
    const s = items.get(e.from);
    const t = items.get(e.to);
    const spanned = all.filter((i) => !i.virtual && i.rank >= t.rank && i.rank <= s.rank);
    const minLeft = Math.min(...spanned.map((i) => i.x));
    const maxRight = Math.max(...spanned.map((i) => i.x + i.w));
    const side = (s.cx + t.cx) / 2 - minLeft < maxRight - (s.cx + t.cx) / 2 ? 'left' : 'right';
    const k = ++lanes[side];
    const laneX = side === 'left' ? minLeft - SIZE.laneGap * k : maxRight + SIZE.laneGap * k;
    const below = rankTop[s.rank] + rankHeight[s.rank] + SIZE.rankGap / 2 - 6 + k * 3;
    const above = rankTop[t.rank] - SIZE.rankGap / 2 + 6 - k * 3;
    const quarter = side === 'left' ? -0.25 : 0.25;
    const sx = s.cx + s.w * quarter;
    const tx = t.cx + t.w * quarter;
    routed.push({
      edge: e,
      back: true,
      points: [
        { x: sx, y: s.y + s.h }, { x: sx, y: below }, { x: laneX, y: below },
        { x: laneX, y: above }, { x: tx, y: above }, { x: tx, y: t.y },
      ],
    });
  }
  // Left lanes may lie left of 0: shift everything right.
  const shift = Math.max(0, ...routed.flatMap((r) => r.points.map((p) => SIZE.laneGap - p.x)));
  if (shift > 0) {
    for (const item of all) {
      item.x += shift;
      item.cx += shift;
    }
    for (const r of routed) for (const p of r.points) p.x += shift;
  }
  width = Math.max(width + shift, ...routed.flatMap((r) => r.points.map((p) => p.x + SIZE.laneGap)));

  // Labels: on the route, where they overlap no node and no other label.
  const obstacles = [...items.values()].map((i) => ({ x: i.x, y: i.y, w: i.w, h: i.h }));
  for (const r of routed) {
    if (!r.edge.label) continue;
    const text = truncate(r.edge.label, SIZE.maxLabelChars);
    const w = Math.ceil(text.length * SIZE.labelCharWidth + 8);
    const h = SIZE.labelHeight;
    let chosen = null;
    for (const f of [0.5, 0.35, 0.65, 0.25, 0.75, 0.15, 0.85, 0.08, 0.92]) {
      const p = pointAlong(r.points, f);
      const box = { x: p.x - w / 2, y: p.y - h / 2, w, h };
      if (box.x >= 0 && box.y >= -SIZE.labelHeight && !obstacles.some((o) => overlaps(o, box))) {
        chosen = box;
        break;
      }
      chosen ??= box;
    }
    r.label = { text, ...chosen };
    obstacles.push(chosen);
    width = Math.max(width, chosen.x + chosen.w);
  }
  return { width, height, items: [...items.values()], routed, rank };
}

/** The point a fraction `f` of the way along a polyline. */
export function pointAlong(points, f) {
  const lengths = points.slice(1).map((p, i) => Math.hypot(p.x - points[i].x, p.y - points[i].y));
  let left = lengths.reduce((a, b) => a + b, 0) * f;
  for (let i = 0; i < lengths.length; i++) {
    if (left <= lengths[i] || i === lengths.length - 1) {
      const t = lengths[i] ? Math.min(1, left / lengths[i]) : 0;
      return { x: points[i].x + (points[i + 1].x - points[i].x) * t, y: points[i].y + (points[i + 1].y - points[i].y) * t };
    }
    left -= lengths[i];
  }
  return { ...points[0] };
}

/** Whether two boxes {x, y, w, h} overlap (touching is not overlapping). */
export function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Writes a scope's layout at (ox, oy) into `out`, nested scopes too. */
function place(index, scope, ox, oy, out) {
  const p = SIZE.branchPadding;
  for (const item of scope.items) {
    const box = { id: item.id, node: item.node, x: ox + item.x, y: oy + item.y, w: item.w, h: item.h, rank: item.rank };
    out.nodes.set(item.id, box);
    out.ranks.set(item.id, item.rank);
    if (!item.subs) continue;
    const inner = item.subs.reduce((s, b) => s + b.layout.width + 2 * p, 0) + SIZE.branchGap * (item.subs.length - 1);
    let bx = box.x + (box.w - inner) / 2;
    for (const { branch, layout } of item.subs) {
      const bbox = { id: branch.id, branch, x: bx, y: box.y + SIZE.headerHeight, w: layout.width + 2 * p, h: layout.height + 2 * p };
      out.branches.set(branch.id, bbox);
      place(index, layout, bbox.x + p, bbox.y + p, out);
      bx += bbox.w + SIZE.branchGap;
    }
  }
  for (const r of scope.routed) {
    const shift = (pt) => ({ x: pt.x + ox, y: pt.y + oy });
    out.edges.push({
      from: r.edge.from,
      to: r.edge.to,
      kind: r.edge.kind,
      label: r.edge.label ?? null,
      back: r.back,
      points: r.points.map(shift),
      labelBox: r.label ? { ...r.label, x: r.label.x + ox, y: r.label.y + oy } : null,
    });
  }
}
