// The HTTP API (docs/api/openapi.json) as async functions. Every failure becomes
// an ApiError carrying the server's `{"error":{"code","message","field"}}`, so
// views can show a sentence and point at the offending field.

/** Base URLs of the services this page talks to; '' is the page's own origin. */
function meta(name) {
  const el = document.querySelector(`meta[name="${name}"]`);
  const v = el ? el.content.trim() : '';
  // An unfilled template placeholder means the server did not render the page.
  return v.startsWith('{{') ? '' : v.replace(/\/+$/, '');
}

export const endpoints = {
  api: '',
  audit: meta('todo-audit-url'),
  notifications: meta('todo-notifications-url'),
  /** The WebSocket of live updates: the sync service's, or /ws on this origin. */
  ws() {
    const configured = meta('todo-sync-url');
    if (configured) return configured;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/ws`;
  },
};

export class ApiError extends Error {
  constructor(status, code, message, { field = null, retryAfter = null, span = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    /** For `invalid_filter`: `[start, end)` in characters of the query. */
    this.span = span;
    this.retryAfter = retryAfter;
  }

  /** A sentence for people: the server's message, capitalised, with the wait spelled out. */
  get friendly() {
    if (this.code === 'network') return 'Cannot reach the server. Check your connection and try again.';
    if (this.code === 'rate_limited' && this.retryAfter != null) {
      return `Too many attempts. Try again in ${waitText(this.retryAfter)}.`;
    }
    const m = this.message || 'Something went wrong.';
    const s = m.charAt(0).toUpperCase() + m.slice(1);
    return /[.!?]$/.test(s) ? s : `${s}.`;
  }
}

function waitText(secs) {
  if (secs < 60) return `${secs} second${secs === 1 ? '' : 's'}`;
  const mins = Math.ceil(secs / 60);
  return `${mins} minute${mins === 1 ? '' : 's'}`;
}

let token = null;
let onUnauthorized = () => {};

/** The bearer token of every call, and what to do when the server rejects it. */
export function setToken(t) { token = t; }
export function onSessionExpired(fn) { onUnauthorized = fn; }

async function request(method, url, { body, ifMatch, auth = true, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  if (ifMatch != null) headers['If-Match'] = `"${ifMatch}"`;
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      // The token travels in a header, never in a cookie: no ambient credentials.
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'network error');
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (res.ok) return data;
  const err = data && data.error ? data.error : {};
  const retry = res.headers.get('Retry-After');
  const e = new ApiError(res.status, err.code || `http_${res.status}`, err.message || res.statusText || 'request failed', {
    field: err.field || null,
    span: Array.isArray(err.span) ? err.span : null,
    retryAfter: retry != null && /^\d+$/.test(retry) ? Number(retry) : null,
  });
  // A rejected token (expired, or signed with a rotated secret) ends the session;
  // a 401 from the sign-in form is just a wrong password.
  if (res.status === 401 && auth && token) onUnauthorized(e);
  throw e;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

const api = (path) => `${endpoints.api}/api/v1${path}`;

export const register = (email, password, timezone) =>
  request('POST', api('/auth/register'), { body: { email, password, timezone }, auth: false });
export const login = (email, password) =>
  request('POST', api('/auth/login'), { body: { email, password }, auth: false });

/** `filter`: status, priority, tag, q, overdue, filter (a query), list, sort, limit, cursor. */
export const listTasks = (filter, signal) => request('GET', api(`/tasks${query(filter)}`), { signal });
export const getTask = (id) => request('GET', api(`/tasks/${encodeURIComponent(id)}`));
export const createTask = (body) => request('POST', api('/tasks'), { body });
export const updateTask = (id, patch, version) =>
  request('PATCH', api(`/tasks/${encodeURIComponent(id)}`), { body: patch, ifMatch: version });
export const completeTask = (id, version) =>
  request('POST', api(`/tasks/${encodeURIComponent(id)}/complete`), { ifMatch: version });
export const reopenTask = (id, version) =>
  request('POST', api(`/tasks/${encodeURIComponent(id)}/reopen`), { ifMatch: version });
export const deleteTask = (id, version) =>
  request('DELETE', api(`/tasks/${encodeURIComponent(id)}`), { ifMatch: version });

export const listFilters = () => request('GET', api('/filters'));
export const createFilter = (name, query) => request('POST', api('/filters'), { body: { name, query } });
export const deleteFilter = (id) => request('DELETE', api(`/filters/${encodeURIComponent(id)}`));

export const chat = (message, conversationId) =>
  request('POST', api('/chat'), { body: conversationId ? { message, conversation_id: conversationId } : { message } });
export const conversationMessages = (id, cursor) =>
  request('GET', api(`/conversations/${encodeURIComponent(id)}/messages${query({ limit: 200, cursor })}`));

export const listNotifications = (cursor) =>
  request('GET', `${endpoints.notifications}/api/v1/notifications${query({ limit: 30, cursor })}`);
export const listAudit = (filter) => request('GET', `${endpoints.audit}/api/v1/audit${query(filter)}`);
export const verifyAudit = () => request('GET', `${endpoints.audit}/api/v1/audit/verify`);

/** API tokens: minted, listed and revoked with the session (never with a token). */
export const listTokens = () => request('GET', api('/auth/tokens'));
export const mintToken = (name, scopes) => request('POST', api('/auth/tokens'), { body: { name, scopes } });
export const revokeToken = (id) => request('DELETE', api(`/auth/tokens/${encodeURIComponent(id)}`));

/** The calendar feed: its address is in the answers of create and rotate only. */
export const calendarStatus = () => request('GET', api('/calendar'));
export const createCalendar = () => request('POST', api('/calendar'));
export const rotateCalendar = () => request('POST', api('/calendar/rotate'));
export const revokeCalendar = () => request('DELETE', api('/calendar'));
