// The console session's credential: an API key or an OIDC token (a JWT),
// kept in sessionStorage for this tab, sent as `x-api-key` or
// `Authorization: Bearer` on HTTP and in the WebSocket `connection_init`.

const KEY = 'spate.console.credential';

/** The stored credential, {kind: 'apiKey' | 'oidc', value}, or null. */
export function credential() {
  try {
    const c = JSON.parse(sessionStorage.getItem(KEY));
    return c && (c.kind === 'apiKey' || c.kind === 'oidc') && c.value ? c : null;
  } catch {
    return null;
  }
}

/** Stores a credential for this tab. */
export function setCredential(kind, value) {
  sessionStorage.setItem(KEY, JSON.stringify({ kind, value: value.trim() }));
}

/** Forgets the credential. */
export function clearCredential() {
  sessionStorage.removeItem(KEY);
}

/** The credential as header fields (also the `connection_init` payload). */
export function authFields() {
  const c = credential();
  if (!c) return {};
  return c.kind === 'apiKey' ? { 'x-api-key': c.value } : { Authorization: `Bearer ${c.value}` };
}
