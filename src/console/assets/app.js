// The console's entry point: the navigation, the login form, and the
// router that shows one page at a time (stopping the previous page's
// subscriptions).

import { h, replace, errorBox } from './dom.js';
import { request, onAuthError } from './graphql.js';
import { credential, setCredential, clearCredential } from './auth.js';
import { parseRoute } from './router.js';
import { machinesPage, machinePage, executionsPage } from './machines.js';
import { executionPage } from './execution.js';
import { livePage } from './live.js';

const main = document.getElementById('main');
const who = document.getElementById('who');
let stopPage = () => {};
let generation = 0;

function showWho() {
  const c = credential();
  replace(who, c
    ? [h('span', { class: 'muted' }, c.kind === 'apiKey' ? 'API key' : 'OIDC token'), ' ',
      h('button', { type: 'button', class: 'link', onclick: () => { clearCredential(); showWho(); location.hash = '#/login'; } }, 'Log out')]
    : h('a', { href: '#/login' }, 'Log in'));
}

/** The login page: an API key or an OIDC token, checked with a query. */
function loginPage(target, back) {
  const kind = h('select', { name: 'kind' }, h('option', { value: 'apiKey' }, 'API key'), h('option', { value: 'oidc' }, 'OIDC token (JWT)'));
  const value = h('input', { name: 'credential', type: 'password', autocomplete: 'off', required: true, size: 48 });
  const result = h('div', { class: 'form-result' });
  const form = h('form', { class: 'login' }, h('h2', {}, 'Log in'),
    h('p', { class: 'muted' }, 'The key or token is kept in this tab only. Keys carry a scope: read, start or admin.'),
    h('label', {}, 'With ', kind), h('label', {}, 'Value ', value), h('button', { type: 'submit', class: 'primary' }, 'Log in'), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    setCredential(kind.value, value.value);
    try {
      await request('{ stateMachines { name } }');
      showWho();
      location.hash = back || '#/machines';
    } catch (err) {
      clearCredential();
      replace(result, errorBox(err));
    }
  });
  replace(target, form);
}

async function show() {
  const mine = ++generation;
  stopPage();
  stopPage = () => {};
  const route = parseRoute(location.hash);
  for (const a of document.querySelectorAll('nav a[data-page]')) {
    a.classList.toggle('active', a.dataset.page === route.page || a.dataset.page === `${route.page}s`);
  }
  replace(main, h('p', { class: 'muted' }, 'Loading…'));
  try {
    let stop;
    switch (route.page) {
      case 'login': loginPage(main, route.back); break;
      case 'machine': stop = await machinePage(main, route.name); break;
      case 'executions': await executionsPage(main, route.filter); break;
      case 'execution': stop = await executionPage(main, route.id); break;
      case 'live': stop = await livePage(main); break;
      default: await machinesPage(main);
    }
    if (mine === generation) stopPage = stop ?? (() => {});
    else stop?.();
  } catch (err) {
    if (mine === generation) replace(main, errorBox(err));
  }
}

onAuthError((err) => {
  if (parseRoute(location.hash).page === 'login') return;
  const back = encodeURIComponent(location.hash);
  location.hash = `#/login?back=${back}`;
  setTimeout(() => main.prepend(errorBox(err)), 0);
});

window.addEventListener('hashchange', show);
showWho();
show();
