// Test helper: the GraphQL `Graph` of an ASL definition, shaped as
// docs/console.md's contract says (node ids are JSON pointers), so the
// layout and the page can be tested without the server. The server's own
// graph model is the reference; this one covers what the fixtures use.

const pointerPart = (s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');

/** A Choice rule in readable form. */
export function ruleText(rule) {
  if (rule.Condition) return rule.Condition;
  if (rule.And) return rule.And.map(ruleText).join(' and ');
  if (rule.Or) return rule.Or.map(ruleText).join(' or ');
  if (rule.Not) return `not (${ruleText(rule.Not)})`;
  const ops = {
    NumericGreaterThanEquals: '>=', NumericGreaterThan: '>', NumericLessThan: '<',
    NumericLessThanEquals: '<=', NumericEquals: '==', StringEquals: '==', BooleanEquals: '==',
  };
  for (const [k, v] of Object.entries(rule)) {
    if (k === 'Variable' || k === 'Next') continue;
    const op = ops[k] ?? k;
    return `${rule.Variable} ${op} ${JSON.stringify(v)}`;
  }
  return rule.Variable ?? '';
}

/** The graph of definition `asl` (an object). */
export function aslGraph(asl) {
  const graph = { startAt: `/States/${pointerPart(asl.StartAt)}`, nodes: [], branches: [], edges: [] };
  const scope = (def, base, branch) => {
    const id = (name) => `${base}/States/${pointerPart(name)}`;
    for (const [name, s] of Object.entries(def.States)) {
      const me = id(name);
      graph.nodes.push({
        id: me, name, type: s.Type, branch, start: name === def.StartAt,
        end: Boolean(s.End) || s.Type === 'Succeed' || s.Type === 'Fail',
        resource: s.Resource ?? null, comment: s.Comment ?? null,
        retry: (s.Retry ?? []).map((r) => ({
          errorEquals: r.ErrorEquals, intervalSeconds: r.IntervalSeconds ?? null,
          maxAttempts: r.MaxAttempts ?? null, backoffRate: r.BackoffRate ?? null,
        })),
      });
      if (s.Next) graph.edges.push({ from: me, to: id(s.Next), kind: 'NEXT', label: null });
      for (const c of s.Choices ?? []) graph.edges.push({ from: me, to: id(c.Next), kind: 'CHOICE', label: ruleText(c) });
      if (s.Default) graph.edges.push({ from: me, to: id(s.Default), kind: 'DEFAULT', label: null });
      for (const c of s.Catch ?? []) graph.edges.push({ from: me, to: id(c.Next), kind: 'CATCH', label: c.ErrorEquals.join(', ') });
      const subs = s.Type === 'Parallel'
        ? s.Branches.map((b, i) => [`${me}/Branches/${i}`, b, i])
        : s.Type === 'Map' ? [[`${me}/${s.ItemProcessor ? 'ItemProcessor' : 'Iterator'}`, s.ItemProcessor ?? s.Iterator, 0]] : [];
      for (const [bid, b, index] of subs) {
        graph.branches.push({ id: bid, state: me, index, startAt: `${bid}/States/${pointerPart(b.StartAt)}` });
        scope(b, bid, bid);
      }
    }
  };
  scope(asl, '', null);
  return graph;
}
