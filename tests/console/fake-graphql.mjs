// Test double: canned GraphQL answers shaped as docs/console.md's
// contract says, for the page's component tests (run.mjs --fake), with
// two state machines (the shipped IoT workflow and the 40-state fixture,
// whose graphs asl-graph.mjs makes) and executions that walk the graph:
// a Choice takes its first rule when the input's device_id is a string and its
// Default otherwise (the IoT workflow's Route, Classify and Humidity
// choose as their rules say), a Map runs one iteration per `readings`
// item, a Parallel every branch, a Fail state fails with its Error and
// Cause, and a Wait state waits until the execution is stopped. With
// `apiKey` or `token`, a request without that credential is refused as
// UNAUTHENTICATED. Not the engine: only enough to drive the page.

import { readFileSync } from 'node:fs';
import { aslGraph } from './asl-graph.mjs';

const read = (path) => readFileSync(new URL(path, import.meta.url), 'utf8');

/** A fake server; `handle(body, headers)` answers one GraphQL request. */
export function fakeServer({ apiKey = null, token = null } = {}) {
  const machines = new Map();
  const add = (name, text, diagnostics = []) => {
    const asl = JSON.parse(text);
    machines.set(name, {
      name, arn: `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`, type: 'EXPRESS',
      definition: text, asl, graph: aslGraph(asl), diagnostics, versions: [], createdAt: '2026-12-01T10:00:00.000Z',
    });
  };
  add('iot-enrich', read('../../config/workflows/iot-enrich.asl.json'));
  add('forty-states', read('./fixtures/forty-states.asl.json'), [{
    code: 'UNREACHABLE_STATE', message: 'no transition reaches this state', severity: 'WARNING',
    location: '/States/Metrics', node: '/States/Metrics',
  }]);
  const executions = [];
  let clock = Date.parse('2026-12-02T12:00:00.000Z');
  const now = () => new Date((clock += 3)).toISOString();

  const stateOf = (asl, pointer) => pointer.split('/').slice(1).reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], asl);

  /** Walks `m`'s scope from `start`: state runs and history events. */
  function walk(m, start, input, out, mapIndex = null) {
    let id = start;
    while (id) {
      const n = m.graph.nodes.find((x) => x.id === id);
      const s = stateOf(m.asl, id);
      const run = { node: id, name: n.name, mapIndex, status: 'SUCCEEDED', retries: 0, enteredAt: now(), exitedAt: null,
        input: JSON.stringify(input), output: null, error: null, cause: null };
      out.states.push(run);
      out.event(`${n.type}StateEntered`, n, mapIndex, { payload: run.input });
      const branches = m.graph.branches.filter((b) => b.state === id);
      if (n.type === 'Map') {
        (input.readings ?? [0]).forEach((value, i) => walk(m, branches[0].startAt, { index: i, value }, out, i));
      } else if (n.type === 'Parallel') {
        for (const b of branches) walk(m, b.startAt, input, out, mapIndex);
      }
      if (n.type === 'Wait') {
        // Waits until stopped: the execution stays RUNNING.
        run.status = 'RUNNING';
        out.waiting = true;
        return false;
      }
      if (n.type === 'Fail') {
        Object.assign(run, { status: 'FAILED', exitedAt: now() });
        out.fail(s.Error ?? 'States.Fail', s.Cause ?? null);
        return false;
      }
      const output = n.name === 'Enrich' ? { ...input, key: `${input.site}/${input.device_id}` } : input;
      Object.assign(run, { exitedAt: now(), output: JSON.stringify(output) });
      out.event(`${n.type}StateExited`, n, mapIndex, { payload: run.output });
      const edges = m.graph.edges.filter((e) => e.from === id && e.kind !== 'CATCH');
      const next = n.type === 'Choice'
        ? (typeof input.device_id === 'string' ? edges.find((e) => e.kind === 'CHOICE') : edges.find((e) => e.kind === 'DEFAULT'))
        : edges[0];
      if (m.name === 'iot-enrich' && n.name === 'Route' && next) {
        // The IoT routing by temperature, so the path matches the real one.
        const t = input.temperature ?? 0;
        const to = t >= 70 ? 'Critical' : t >= 45 ? 'Warning' : 'Normal';
        id = m.graph.nodes.find((x) => x.name === to).id;
        continue;
      }
      if (m.name === 'iot-enrich' && (n.name === 'Classify' || n.name === 'Humidity')) {
        const high = n.name === 'Classify' ? input.value > 60 : input.humidity > 85;
        id = (high ? edges.find((e) => e.kind === 'CHOICE') : edges.find((e) => e.kind === 'DEFAULT')).to;
        continue;
      }
      id = next?.to;
      input = output;
    }
    return true;
  }

  function start(name, inputText, execName) {
    const m = machines.get(name);
    if (!m) throw new Error(`no state machine named ${name}`);
    const input = JSON.parse(inputText ?? '{}');
    const history = [];
    const e = {
      id: `arn:aws:states:us-east-1:123456789012:express:${name}:${execName ?? `console-${executions.length + 1}`}`,
      name: execName ?? `console-${executions.length + 1}`, stateMachine: name, status: 'RUNNING', source: 'CONSOLE', key: null,
      startDate: now(), stopDate: null, durationMs: null, input: inputText, output: null, error: null, cause: null,
      historyRecorded: true, history, states: [],
    };
    const out = {
      states: e.states,
      event: (type, n, mapIndex, extra = {}) => history.push({ id: history.length + 1, previousEventId: history.length || null,
        timestamp: now(), type, state: n?.name ?? null, node: n?.id ?? null, mapIndex, resource: n?.resource ?? null, payload: null, error: null, cause: null, ...extra }),
      fail: (error, cause) => Object.assign(e, { status: 'FAILED', error, cause }),
    };
    out.event('ExecutionStarted', null, null, { payload: inputText });
    const ok = walk(m, m.graph.nodes.find((n) => n.start && !n.branch).id, input, out);
    if (out.waiting) {
      executions.unshift(e);
      return e;
    }
    if (ok) {
      e.status = 'SUCCEEDED';
      e.output = e.states[e.states.length - 1].output;
      out.event('ExecutionSucceeded', null, null, { payload: e.output });
    } else {
      out.event('ExecutionFailed', null, null, { error: e.error, cause: e.cause });
    }
    e.stopDate = now();
    e.durationMs = Date.parse(e.stopDate) - Date.parse(e.startDate);
    executions.unshift(e);
    return e;
  }

  const tick = (stateMachine) => ({
    at: new Date().toISOString(), stateMachine, started: 12, succeeded: 11, failed: 1, timedOut: 0, aborted: 0,
    p50: 1.5, p90: 3.2, p99: 7.9,
    pipelines: stateMachine ? [] : [{ name: 'iot', eventsPerSecond: 12, deadLettersPerSecond: 0.5, p50: 2.1, p99: 9.4, lag: 3 }],
  });

  function handle({ query, variables = {} }, headers = {}) {
    const allowed = (apiKey && headers['x-api-key'] === apiKey) || (token && headers.authorization === `Bearer ${token}`);
    if ((apiKey || token) && !allowed) {
      return { data: null, errors: [{ message: 'a console session needs an API key or an OIDC token', extensions: { code: 'UNAUTHENTICATED' } }] };
    }
    try {
      if (query.includes('startExecution')) return { data: { startExecution: start(variables.stateMachine, variables.input, variables.name) } };
      if (query.includes('stopExecution')) {
        const e = executions.find((x) => x.id === variables.id);
        if (!e) throw new Error(`no execution ${variables.id}`);
        if (e.status === 'RUNNING') {
          Object.assign(e, { status: 'ABORTED', error: variables.error, cause: variables.cause, stopDate: now() });
          e.durationMs = Date.parse(e.stopDate) - Date.parse(e.startDate);
          for (const r of e.states.filter((r) => !r.exitedAt)) r.status = 'FAILED';
          e.history.push({ id: e.history.length + 1, previousEventId: e.history.length, timestamp: e.stopDate, type: 'ExecutionAborted',
            state: null, node: null, mapIndex: null, resource: null, payload: null, error: e.error, cause: e.cause });
        }
        return { data: { stopExecution: e } };
      }
      if (query.includes('testState')) {
        // The state's input as its output (Enrich's key added), and its Next.
        const i = variables.input;
        const asl = JSON.parse(i.definition);
        const state = asl.States[i.stateName];
        const input = JSON.parse(i.input);
        const output = i.stateName === 'Enrich' ? { ...input, key: `${input.site}/${input.device_id}` } : input;
        return { data: { testState: { status: 'SUCCEEDED', output: JSON.stringify(output), error: null, cause: null,
          nextState: state?.Next ?? null, inspectionData: JSON.stringify({ input: i.input }) } } };
      }
      if (query.includes('execution(')) return { data: { execution: executions.find((e) => e.id === variables.id) ?? null } };
      if (query.includes('executions(')) {
        const f = variables.f ?? {};
        const list = executions.filter((e) => (!f.stateMachine || e.stateMachine === f.stateMachine) && (!f.status || e.status === f.status));
        return { data: { executions: { edges: list.map((node) => ({ cursor: node.id, node })), pageInfo: { hasNextPage: false, endCursor: null } } } };
      }
      if (query.includes('stateMachine(')) return { data: { stateMachine: machines.get(variables.name) ?? null } };
      if (query.includes('stateMachines')) return { data: { stateMachines: [...machines.values()] } };
      if (query.includes('metrics(')) return { data: { metrics: tick(variables.m ?? null) } };
      return { data: null, errors: [{ message: `the fake does not answer ${query.slice(0, 60)}` }] };
    } catch (e) {
      return { data: null, errors: [{ message: e.message }] };
    }
  }

  /** Answers a graphql-transport-ws subscription: metric ticks every second, nothing else. */
  function subscription({ query, variables = {} }, send) {
    if (query.includes('metricsTick')) {
      const timer = setInterval(() => send({ metricsTick: tick(variables.m ?? null) }), 1000);
      send({ metricsTick: tick(variables.m ?? null) });
      return () => clearInterval(timer);
    }
    if (query.includes('executionStatusChanged')) {
      for (const e of executions.slice(0, 3)) send({ executionStatusChanged: e });
    }
    return () => {};
  }

  return { handle, subscription, executions };
}
