// Forms that act: start an execution (a JSON input editor that validates
// as you type), stop one, and run TestState on one state.

import { h, replace, jsonBlock, errorBox } from './dom.js';
import { request } from './graphql.js';
import { jsonProblem } from './json.js';

/** A textarea for JSON with a live validity message; `.value()` and `.valid()`. */
export function jsonEditor({ name, initial = '{}', rows = 8, optional = false }) {
  const area = h('textarea', { class: 'json-editor', name, rows, spellcheck: 'false', 'aria-label': name });
  area.value = initial;
  const message = h('div', { class: 'json-status', 'aria-live': 'polite' });
  const check = () => {
    const problem = !optional || area.value.trim() ? jsonProblem(area.value || (optional ? '' : '{}')) : null;
    area.classList.toggle('invalid', Boolean(problem));
    replace(message, problem ? `Invalid JSON: ${problem}` : 'Valid JSON');
    message.className = `json-status ${problem ? 'invalid' : 'valid'}`;
    area.dispatchEvent(new CustomEvent('validity'));
    return !problem;
  };
  area.addEventListener('input', check);
  const el = h('div', { class: 'json-field' }, area, message);
  check();
  return { el, area, value: () => area.value, valid: () => !jsonProblem(area.value) };
}

const EXECUTION_FIELDS = 'id name status stateMachine error cause';

/** The start form of machine `name`: input editor, optional name, Start. */
export function startForm(name, initialInput, onStarted) {
  const editor = jsonEditor({ name: 'input', initial: initialInput ?? '{}', rows: 10 });
  const nameField = h('input', { name: 'execution-name', placeholder: 'execution name (optional)' });
  const result = h('div', { class: 'form-result' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Start execution');
  editor.area.addEventListener('validity', () => (button.disabled = !editor.valid()));
  button.disabled = !editor.valid();
  const form = h('form', { class: 'start-form' },
    h('h3', {}, 'Start an execution'), editor.el, h('div', { class: 'row' }, nameField, button), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!editor.valid()) return;
    button.disabled = true;
    replace(result, 'Starting…');
    try {
      const data = await request(
        `mutation Start($stateMachine: String!, $input: String, $name: String) {
          startExecution(stateMachine: $stateMachine, input: $input, name: $name) { ${EXECUTION_FIELDS} } }`,
        { stateMachine: name, input: editor.value().trim() || '{}', name: nameField.value.trim() || null },
      );
      replace(result);
      onStarted(data.startExecution);
    } catch (err) {
      replace(result, errorBox(err));
    } finally {
      button.disabled = !editor.valid();
    }
  });
  return form;
}

/** A Stop button for a running execution; `onStopped(execution)`. */
export function stopButton(id, onStopped) {
  const result = h('span', { class: 'form-result' });
  const button = h('button', { type: 'button', class: 'danger', name: 'stop' }, 'Stop execution');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const data = await request(
        `mutation Stop($id: ID!, $error: String, $cause: String) { stopExecution(id: $id, error: $error, cause: $cause) { ${EXECUTION_FIELDS} } }`,
        { id, error: 'Console.Stopped', cause: 'stopped from the console' },
      );
      onStopped(data.stopExecution);
    } catch (err) {
      replace(result, errorBox(err));
      button.disabled = false;
    }
  });
  return h('span', { class: 'stop' }, button, result);
}

/** The TestState form for `definition` (ASL text) and its `stateNames`. */
export function testStateForm(definition, stateNames, selectedName) {
  const select = h('select', { name: 'state' }, stateNames.map((n) => h('option', { value: n, selected: n === selectedName }, n)));
  const input = jsonEditor({ name: 'test-input', initial: '{}', rows: 6 });
  const mock = jsonEditor({ name: 'mock', initial: '', rows: 3, optional: true });
  const level = h('select', { name: 'inspection-level' }, ['INFO', 'DEBUG', 'TRACE'].map((l) => h('option', { value: l }, l)));
  const result = h('div', { class: 'form-result test-state-result' });
  const button = h('button', { type: 'submit' }, 'Test state');
  const refresh = () => (button.disabled = !input.valid() || !mock.valid());
  input.area.addEventListener('validity', refresh);
  mock.area.addEventListener('validity', refresh);
  const form = h('form', { class: 'test-state-form' },
    h('h3', {}, 'TestState'),
    h('label', {}, 'State ', select, ' inspection ', level),
    h('label', { class: 'block' }, 'Input', input.el),
    h('label', { class: 'block' }, 'Mocked result (optional, for a Task)', mock.el),
    button, result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    replace(result, 'Running…');
    try {
      const data = await request(
        `query Test($input: TestStateInput!) { testState(input: $input) { status output error cause nextState inspectionData } }`,
        { input: { definition, stateName: select.value, input: input.value().trim() || '{}', mock: mock.value().trim() || null, inspectionLevel: level.value } },
      );
      const r = data.testState;
      replace(result,
        h('dl', { class: 'facts' },
          h('dt', {}, 'Status'), h('dd', { class: `test-status status-${r.status.toLowerCase()}` }, r.status),
          r.nextState ? [h('dt', {}, 'Next state'), h('dd', {}, r.nextState)] : null,
          r.error ? [h('dt', {}, 'Error'), h('dd', { class: 'error-text' }, r.error)] : null,
          r.cause ? [h('dt', {}, 'Cause'), h('dd', { class: 'error-text' }, r.cause)] : null),
        r.output !== null && r.output !== undefined ? [h('h4', {}, 'Output'), jsonBlock(r.output)] : null,
        r.inspectionData ? [h('h4', {}, 'Inspection data'), jsonBlock(r.inspectionData)] : null);
    } catch (err) {
      replace(result, errorBox(err));
    } finally {
      refresh();
    }
  });
  return form;
}
