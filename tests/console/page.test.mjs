// Unit tests of the page's pure helpers: the outcome of a state from its
// runs, the failing state, the transitions taken, the routes, JSON input
// validation. `node --test tests/console/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { outcomeOf, failingNode, takenEdges } from '../../src/console/assets/render.js';
import { parseRoute, executionHref, executionsHref } from '../../src/console/assets/router.js';
import { jsonProblem } from '../../src/console/assets/json.js';
import { mapIterations, inIteration } from '../../src/console/assets/execution.js';

const run = (node, status, mapIndex = null) => ({ node, status, mapIndex });

test('a state failed if any run failed, else caught, running, succeeded', () => {
  assert.equal(outcomeOf([run('a', 'SUCCEEDED'), run('a', 'FAILED')]), 'FAILED');
  assert.equal(outcomeOf([run('a', 'SUCCEEDED'), run('a', 'CAUGHT')]), 'CAUGHT');
  assert.equal(outcomeOf([run('a', 'RUNNING')]), 'RUNNING');
  assert.equal(outcomeOf([]), null);
});

test('the failing state is the last failed run, else the last state of a failed execution', () => {
  const runs = [run('p', 'FAILED'), run('x', 'SUCCEEDED'), run('f', 'FAILED')];
  assert.equal(failingNode({ status: 'FAILED', states: runs }).node, 'f');
  assert.equal(failingNode({ status: 'FAILED', states: [run('a', 'SUCCEEDED'), run('b', 'SUCCEEDED')] }).node, 'b');
  assert.equal(failingNode({ status: 'SUCCEEDED', states: [run('a', 'SUCCEEDED')] }), null);
  assert.equal(failingNode({ status: 'FAILED', states: [] }), null);
});

test('transitions are taken within a branch and a Map iteration', () => {
  const graph = {
    nodes: [
      { id: '/P', branch: null }, { id: '/P/0/A', branch: '/P/0' }, { id: '/P/0/B', branch: '/P/0' },
      { id: '/P/1/C', branch: '/P/1' }, { id: '/N', branch: null },
      { id: '/M', branch: null }, { id: '/M/I/X', branch: '/M/I' }, { id: '/M/I/Y', branch: '/M/I' },
    ],
  };
  const taken = takenEdges([
    run('/P', 'SUCCEEDED'), run('/P/0/A', 'SUCCEEDED'), run('/P/1/C', 'SUCCEEDED'), run('/P/0/B', 'SUCCEEDED'),
    run('/N', 'SUCCEEDED'), run('/M', 'SUCCEEDED'),
    run('/M/I/X', 'SUCCEEDED', 0), run('/M/I/X', 'SUCCEEDED', 1), run('/M/I/Y', 'SUCCEEDED', 0),
  ], graph);
  assert.deepEqual([...taken].sort(), ['/M/I/X→/M/I/Y', '/N→/M', '/P/0/A→/P/0/B', '/P→/N'].sort());
});

test('routes: machines, one machine, executions with a filter, one execution, live, login', () => {
  assert.deepEqual(parseRoute(''), { page: 'machines' });
  assert.deepEqual(parseRoute('#/machines/iot%2Fenrich'), { page: 'machine', name: 'iot/enrich' });
  const arn = 'arn:aws:states:us-east-1:1:express:m:e/1';
  assert.deepEqual(parseRoute(executionHref(arn)), { page: 'execution', id: arn });
  assert.deepEqual(parseRoute(executionsHref({ status: 'FAILED', key: '' })), { page: 'executions', filter: { status: 'FAILED' } });
  assert.deepEqual(parseRoute('#/live'), { page: 'live' });
  assert.deepEqual(parseRoute('#/login?back=%23%2Flive'), { page: 'login', back: '#/live' });
  assert.deepEqual(parseRoute('#/nowhere'), { page: 'machines' });
});

test('JSON input problems name what was expected, the line and the column', () => {
  assert.equal(jsonProblem('{"a": 1}'), null);
  assert.equal(jsonProblem('   '), null);
  assert.equal(jsonProblem('{\n  "a": 1,\n  "b": }'), 'expected a value, found "}" (line 3, column 8)');
  assert.equal(jsonProblem('[1, 2'), "expected ',' or ']', found the end (line 1, column 6)");
  assert.equal(jsonProblem('{"a": "x\\q"}'), 'expected an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX), found "q" (line 1, column 10)');
  assert.equal(jsonProblem('{"a": 1} x'), 'expected the end of the text, found "x" (line 1, column 10)');
});

test('jsonProblem agrees with JSON.parse on valid JSON and on mutations of it', () => {
  const samples = [
    readFileSync(new URL('../../config/workflows/iot-enrich.input.json', import.meta.url), 'utf8'),
    '{"n": -0.5e+3, "s": "a\\u00e9\\n", "l": [true, false, null, {}, []], "z": 0}',
  ];
  let seed = 7;
  const random = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  const pieces = ['{', '}', '[', ']', ',', ':', '"', '\\', '0', '-', '.', 'e', 't', 'n', ' ', '\n', '01', '1.', '"\\u12"'];
  for (const sample of samples) {
    assert.equal(jsonProblem(sample), null);
    for (let k = 0; k < 3000; k++) {
      const at = random(sample.length + 1);
      const cut = random(3);
      const text = sample.slice(0, at) + pieces[random(pieces.length)] + sample.slice(at + cut);
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      assert.equal(jsonProblem(text) === null, parses, `disagree on ${JSON.stringify(text)}: ${jsonProblem(text)}`);
    }
  }
});

test('Map iterations: the distinct indexes, and what belongs to one', () => {
  const events = [{ mapIndex: null }, { mapIndex: 2 }, { mapIndex: 0 }, { mapIndex: 2 }, {}];
  assert.deepEqual(mapIterations(events), [0, 2]);
  assert.ok(inIteration({ mapIndex: 2 }, '2') && inIteration({ mapIndex: null }, '2') && inIteration({ mapIndex: 1 }, 'all'));
  assert.ok(!inIteration({ mapIndex: 0 }, '2'));
});
