// Unit tests of the console's graph layout (src/console/assets/layout.js),
// with Node's test runner: `node --test tests/console/`. Run by
// tests/it/console.rs too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { layoutGraph, rankScope, countCrossings, overlaps, pointAlong } from '../../src/console/assets/layout.js';
import { aslGraph } from './asl-graph.mjs';

const load = (path) => aslGraph(JSON.parse(readFileSync(new URL(path, import.meta.url))));
const iot = () => load('../../config/workflows/iot-enrich.asl.json');
const forty = () => load('./fixtures/forty-states.asl.json');
const inside = (inner, outer) =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.w <= outer.x + outer.w && inner.y + inner.h <= outer.y + outer.h;

for (const [name, make] of [['the IoT workflow', iot], ['the 40-state definition', forty]]) {
  test(`${name}: every state gets a box inside the drawing`, () => {
    const graph = make();
    const layout = layoutGraph(graph);
    assert.equal(layout.nodes.size, graph.nodes.length);
    for (const box of layout.nodes.values()) {
      assert.ok(inside(box, { x: 0, y: 0, w: layout.width, h: layout.height }), `${box.id} outside`);
      assert.ok(box.w > 0 && box.h > 0);
    }
  });

  test(`${name}: no two state boxes overlap unless one contains the other`, () => {
    const graph = make();
    const { nodes } = layoutGraph(graph);
    const boxes = [...nodes.values()];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        if (overlaps(a, b)) {
          assert.ok(inside(a, b) || inside(b, a), `${a.id} and ${b.id} overlap`);
        }
      }
    }
  });

  test(`${name}: every branch box holds its states and lies in its Map or Parallel state`, () => {
    const graph = make();
    const { nodes, branches } = layoutGraph(graph);
    assert.equal(branches.size, graph.branches.length);
    for (const b of graph.branches) {
      const box = branches.get(b.id);
      assert.ok(inside(box, nodes.get(b.state)), `${b.id} outside ${b.state}`);
      for (const n of graph.nodes.filter((n) => n.branch === b.id)) {
        assert.ok(inside(nodes.get(n.id), box), `${n.id} outside ${b.id}`);
      }
    }
    const boxes = [...branches.values()];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        assert.ok(!overlaps(a, b) || inside(a, b) || inside(b, a), `${a.id} and ${b.id} overlap`);
      }
    }
  });

  test(`${name}: ranks increase along forward edges, which run downward`, () => {
    const { edges, ranks } = layoutGraph(make());
    for (const e of edges.filter((e) => !e.back)) {
      assert.ok(ranks.get(e.to) > ranks.get(e.from), `${e.from} -> ${e.to}`);
      for (let i = 1; i < e.points.length; i++) {
        assert.ok(e.points[i].y >= e.points[i - 1].y, `${e.from} -> ${e.to} goes up`);
      }
    }
  });

  test(`${name}: edge ends touch their states`, () => {
    const { nodes, edges } = layoutGraph(make());
    for (const e of edges) {
      const [first, last] = [e.points[0], e.points[e.points.length - 1]];
      const on = (p, b) => p.x >= b.x - 0.01 && p.x <= b.x + b.w + 0.01 && p.y >= b.y - 0.01 && p.y <= b.y + b.h + 0.01;
      assert.ok(on(first, nodes.get(e.from)), `${e.from} -> ${e.to} starts off its state`);
      assert.ok(on(last, nodes.get(e.to)), `${e.from} -> ${e.to} ends off its target`);
    }
  });

  test(`${name}: every label lies on no state box and on no other label`, () => {
    const graph = make();
    const { nodes, edges } = layoutGraph(graph);
    const labels = edges.filter((e) => e.labelBox).map((e) => e.labelBox);
    assert.equal(labels.length, graph.edges.filter((e) => e.label).length);
    const leaves = [...nodes.values()].filter((n) => !['Map', 'Parallel'].includes(n.node.type));
    const { width, height } = layoutGraph(graph);
    for (const l of labels) {
      for (const n of leaves) assert.ok(!overlaps(l, n), `label ${l.text} on ${n.id}`);
      assert.ok(l.x >= 0 && l.y >= 0 && l.x + l.w <= width && l.y + l.h <= height, `label ${l.text} outside the drawing`);
    }
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        assert.ok(!overlaps(labels[i], labels[j]), `labels ${labels[i].text} and ${labels[j].text} overlap`);
      }
    }
  });
}

test('the IoT workflow: Choice rules label their edges', () => {
  const { edges } = layoutGraph(iot());
  const labels = edges.map((e) => e.labelBox?.text).filter(Boolean);
  assert.ok(labels.includes('$.temperature >= 70'), labels.join(' | '));
  assert.ok(labels.includes('$.value > 60'));
});

test('the 40-state definition: a loop back to an earlier state is a back edge beside its states', () => {
  const graph = forty();
  const { edges, nodes } = layoutGraph(graph);
  const back = edges.filter((e) => e.back);
  assert.deepEqual(back.map((e) => [e.from, e.to]), [['/States/AckCheck', '/States/Escalate']]);
  const [e] = back;
  const [s, t] = [nodes.get(e.from), nodes.get(e.to)];
  const lane = e.points[2].x;
  assert.equal(e.points[3].x, lane, 'one vertical lane');
  assert.ok(lane < Math.min(s.x, t.x) || lane > Math.max(s.x + s.w, t.x + t.w), 'the lane is beside both states');
  // The lane crosses no state of the ranks it spans.
  const [top, bottom] = [e.points[3].y, e.points[2].y];
  for (const n of nodes.values()) {
    if (n.y < bottom && n.y + n.h > top && !['Map', 'Parallel'].includes(n.node.type)) {
      assert.ok(lane < n.x || lane > n.x + n.w, `the lane crosses ${n.id}`);
    }
  }
});

test('ranking: longest path from the start; cycles broken at the edge closing them', () => {
  const e = (from, to, kind = 'NEXT') => ({ from, to, kind });
  const edges = [e('a', 'b'), e('b', 'c'), e('a', 'c', 'CHOICE'), e('c', 'a', 'CHOICE'), e('b', 'd', 'CATCH')];
  const { rank, back } = rankScope(['a', 'b', 'c', 'd'], edges, 'a');
  assert.deepEqual([...rank], [['a', 0], ['b', 1], ['c', 2], ['d', 2]]);
  assert.deepEqual([...back], [edges[3]]);
  // A state no edge reaches still gets a rank.
  assert.equal(rankScope(['a', 'z'], [], 'a').rank.get('z'), 0);
});

test('barycentre ordering removes the crossing of a twisted pair', () => {
  const n = (id, type = 'Pass') => ({ id, name: id, type, branch: null, start: id === 's', end: false, retry: [] });
  const graph = {
    startAt: 's',
    nodes: ['s', 'a', 'b', 'x', 'y'].map((id) => n(id)),
    branches: [],
    edges: [
      { from: 's', to: 'a', kind: 'CHOICE' }, { from: 's', to: 'b', kind: 'DEFAULT' },
      { from: 'a', to: 'y', kind: 'NEXT' }, { from: 'b', to: 'x', kind: 'NEXT' },
    ],
  };
  // Declaration order would put x left of y under a left of b: one crossing.
  const { nodes } = layoutGraph(graph);
  const left = (id) => nodes.get(id).x;
  assert.equal(left('a') < left('b'), left('y') < left('x'));
});

test('countCrossings counts pairs of segments that swap order', () => {
  const [a, b, c, d] = [{ rank: 0 }, { rank: 0 }, { rank: 1 }, { rank: 1 }];
  assert.equal(countCrossings([[a, b], [c, d]], [[a, d], [b, c]]), 1);
  assert.equal(countCrossings([[a, b], [c, d]], [[a, c], [b, d]]), 0);
});

test('pointAlong walks a polyline by length', () => {
  const pts = [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 30 }];
  assert.deepEqual(pointAlong(pts, 0.5), { x: 10, y: 10 });
  assert.deepEqual(pointAlong(pts, 0), { x: 0, y: 0 });
  assert.deepEqual(pointAlong(pts, 1), { x: 10, y: 30 });
});
