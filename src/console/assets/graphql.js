// The GraphQL client: queries and mutations over fetch (POST /graphql),
// subscriptions over WebSocket with the graphql-transport-ws protocol.

import { authFields } from './auth.js';

/** A GraphQL error answer; `code` is the first error's extensions.code. */
export class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; ') || 'GraphQL error');
    this.errors = errors;
    this.code = errors.find((e) => e.extensions?.code)?.extensions.code ?? null;
  }
}

const listeners = new Set();

/** Calls `fn(error)` for every UNAUTHENTICATED or FORBIDDEN answer. */
export function onAuthError(fn) {
  listeners.add(fn);
}

function report(err) {
  if (err instanceof GraphQLError && (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN')) {
    for (const fn of listeners) fn(err);
  }
  return err;
}

/** Runs a query or mutation; resolves to its `data`, rejects with GraphQLError. */
export async function request(query, variables = {}) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...authFields() },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new Error(`cannot reach the server: ${e.message}`);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`the server answered ${response.status} ${response.statusText} without GraphQL`);
  }
  if (body.errors?.length) throw report(new GraphQLError(body.errors));
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
  return body.data;
}

let ids = 0;

/**
 * Subscribes: `next(data)` for each result, `error(err)` once on failure,
 * `complete()` when the server ends it. Returns a function that stops it.
 */
export function subscribe(query, variables, { next, error = () => {}, complete = () => {} }) {
  const url = new URL('/graphql', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const id = String(++ids);
  const socket = new WebSocket(url, 'graphql-transport-ws');
  let done = false;
  const finish = (fn, arg) => {
    if (done) return;
    done = true;
    fn(arg);
    if (socket.readyState <= WebSocket.OPEN) socket.close(1000);
  };
  socket.addEventListener('open', () => {
    socket.send(JSON.stringify({ type: 'connection_init', payload: authFields() }));
  });
  socket.addEventListener('message', (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return finish(error, new Error('the server sent a message that is not JSON'));
    }
    switch (msg.type) {
      case 'connection_ack':
        socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
        break;
      case 'ping':
        socket.send(JSON.stringify({ type: 'pong' }));
        break;
      case 'next':
        if (msg.payload?.errors?.length) finish(error, report(new GraphQLError(msg.payload.errors)));
        else if (!done) next(msg.payload.data);
        break;
      case 'error':
        finish(error, report(new GraphQLError(Array.isArray(msg.payload) ? msg.payload : [msg.payload])));
        break;
      case 'complete':
        finish(complete);
        break;
    }
  });
  socket.addEventListener('close', (event) => {
    finish(error, new Error(`subscription closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`));
  });
  return () => {
    if (done) return;
    done = true;
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id, type: 'complete' }));
    socket.close(1000);
  };
}
