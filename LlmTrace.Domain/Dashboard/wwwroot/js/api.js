// Every call goes through the management API with the signed-in key, so what a key may see is decided where it always
// is: on the server. The key lives in sessionStorage (gone when the tab closes); no cookies are used.

const KEY = 'llmtrace.key';

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  set key(value) { value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(status, message, code, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

/** Calls the management API; resolves to the parsed JSON (and the ETag), or throws an ApiError with a message in words. */
export async function api(path, { method = 'GET', body, ifMatch, raw = false } = {}) {
  const headers = { accept: 'application/json' };
  if (session.key) headers.authorization = 'Bearer ' + session.key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (ifMatch) headers['if-match'] = ifMatch;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store', redirect: 'error' });
  } catch {
    throw new ApiError(0, 'The gateway did not answer. Check that it is running and reachable from this browser.');
  }

  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!response.ok) {
    const error = json?.error ?? {};
    const message = error.message || (response.status === 401
      ? 'This key is not accepted. Sign in with the admin key or a gateway key with the viewer, tenant-admin or admin role.'
      : `The gateway answered ${response.status}.`);
    throw new ApiError(response.status, message, error.code, error.fields);
  }

  return raw ? { json, etag: response.headers.get('etag') } : json;
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const text = q.toString();
  return text ? '?' + text : '';
}
