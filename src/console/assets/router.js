// Hash routes: #/machines, #/machines/NAME, #/executions (search),
// #/executions/ID, #/live, #/login.

/** The route of a location hash: {page, ...params}. */
export function parseRoute(hash) {
  const [path, search = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(search));
  switch (parts[0]) {
    case 'machines':
      return parts[1] ? { page: 'machine', name: parts[1] } : { page: 'machines' };
    case 'executions':
      return parts[1] ? { page: 'execution', id: parts[1] } : { page: 'executions', filter: params };
    case 'live':
      return { page: 'live' };
    case 'login':
      return { page: 'login', back: params.back ?? '' };
    default:
      return { page: 'machines' };
  }
}

/** The hash of a state machine's page. */
export const machineHref = (name) => `#/machines/${encodeURIComponent(name)}`;

/** The hash of an execution's page. */
export const executionHref = (id) => `#/executions/${encodeURIComponent(id)}`;

/** The hash of the execution search, with a filter. */
export function executionsHref(filter = {}) {
  const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v)).toString();
  return `#/executions${q ? `?${q}` : ''}`;
}
