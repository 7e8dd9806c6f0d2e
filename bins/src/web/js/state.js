// Application state: the session, and the task listing the page shows. The
// listing mirrors the server's semantics (todo-core `TaskQuery::matches` and
// `SortSpec::compare`) so that a live update can be placed, moved or dropped
// without asking the server again.

import { isOverdue } from './format.js';

const TOKEN_KEY = 'todo.session';
const CONVERSATION_KEY = 'todo.conversation';

// ---- session ----------------------------------------------------------------

/**
 * The signed-in user. The token lives in localStorage so a reload or a second tab
 * stays signed in; the page sends it only as a bearer header (no cookie, so no
 * CSRF), and the CSP keeps foreign scripts from reading it.
 */
export const session = {
  token: null,
  user: null,
  load() {
    try {
      const s = JSON.parse(localStorage.getItem(TOKEN_KEY) || 'null');
      if (s && s.token && s.user && !tokenExpired(s.token)) {
        this.token = s.token;
        this.user = s.user;
        return true;
      }
    } catch { /* a corrupt entry is a signed-out session */ }
    localStorage.removeItem(TOKEN_KEY);
    return false;
  },
  save(token, user) {
    this.token = token;
    this.user = user;
    localStorage.setItem(TOKEN_KEY, JSON.stringify({ token, user }));
  },
  clear() {
    this.token = null;
    this.user = null;
    localStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(CONVERSATION_KEY);
  },
  get timezone() { return (this.user && this.user.timezone) || 'UTC'; },
  expired() { return !this.token || tokenExpired(this.token); },
};

/** Reads `exp` from a JWT (the signature is the server's business, not ours). */
export function tokenExpired(token, now = Date.now()) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return typeof payload.exp === 'number' && payload.exp * 1000 <= now;
  } catch {
    return true;
  }
}

/** The chat conversation continues across reloads of this tab, not across tabs. */
export const conversation = {
  get id() { return sessionStorage.getItem(CONVERSATION_KEY); },
  set id(v) {
    if (v) sessionStorage.setItem(CONVERSATION_KEY, v);
    else sessionStorage.removeItem(CONVERSATION_KEY);
  },
};

// ---- the task listing -------------------------------------------------------

const PRIORITY_RANK = { low: 0, medium: 1, high: 2 };

export const defaultFilter = () => ({
  status: 'pending', priority: '', tag: '', q: '', overdue: false, sort: 'due_at', desc: false, query: '', list: 0,
});

/** The listing: filter, loaded tasks in server order, and the cursor of the next page. */
export class TaskList extends EventTarget {
  constructor() {
    super();
    this.filter = defaultFilter();
    this.items = [];
    this.nextCursor = null;
    /** The last task of the latest page as it was sent: where the server's cursor points. */
    this.boundary = null;
    this.loaded = false;
  }

  /** Query parameters of GET /api/v1/tasks for the current filter. */
  params(extra = {}) {
    const f = this.filter;
    return {
      // A filter query decides the statuses itself (pending unless it names one).
      status: f.query ? undefined : f.status,
      filter: f.query || undefined,
      list: f.query && f.list ? String(f.list) : undefined,
      priority: f.priority || undefined,
      tag: f.tag || undefined,
      q: f.q.trim() || undefined,
      overdue: f.overdue ? 'true' : undefined,
      sort: (f.desc ? '-' : '') + f.sort,
      ...extra,
    };
  }

  isFiltered() {
    const f = this.filter;
    return Boolean(f.priority || f.tag || f.q.trim() || f.overdue || f.query);
  }

  /**
   * Whether `t` belongs in this listing (the server's filters); `null` with a
   * filter query, which only the server evaluates.
   */
  matches(t, now = new Date()) {
    const f = this.filter;
    if (f.query) return null;
    if (f.status !== 'all' && t.status !== f.status) return false;
    if (f.priority && t.priority !== f.priority) return false;
    if (f.tag && !(t.tags || []).includes(f.tag.toLowerCase().replace(/^#/, ''))) return false;
    const q = f.q.trim().toLowerCase();
    if (q && !`${t.title}\n${t.description || ''}`.toLowerCase().includes(q)) return false;
    if (f.overdue && !isOverdue(t, now)) return false;
    return true;
  }

  /** Listing order: the sort key, then the id (UUID v7: creation order); tasks without a due date last. */
  compare(a, b) {
    const desc = this.filter.desc;
    let ka;
    let kb;
    switch (this.filter.sort) {
      case 'priority': ka = PRIORITY_RANK[a.priority]; kb = PRIORITY_RANK[b.priority]; break;
      case 'created_at': ka = Date.parse(a.created_at); kb = Date.parse(b.created_at); break;
      case 'title': ka = a.title.toLowerCase(); kb = b.title.toLowerCase(); break;
      default: {
        const none = desc ? -Infinity : Infinity;
        ka = a.due_at ? Date.parse(a.due_at) : none;
        kb = b.due_at ? Date.parse(b.due_at) : none;
      }
    }
    let o = ka < kb ? -1 : ka > kb ? 1 : 0;
    if (o === 0) o = a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    return desc ? -o : o;
  }

  /** Replaces everything with a first page. */
  reset(page) {
    this.items = page.items.slice();
    this.setCursor(page);
    this.loaded = true;
    this.emit({ kind: 'reset' });
  }

  /** Appends a further page, skipping tasks a live update already placed. */
  append(page) {
    const have = new Set(this.items.map((t) => t.id));
    const fresh = page.items.filter((t) => !have.has(t.id));
    this.items.push(...fresh);
    this.setCursor(page);
    this.emit({ kind: 'append', tasks: fresh });
  }

  setCursor(page) {
    this.nextCursor = page.next_cursor || null;
    const last = page.items[page.items.length - 1];
    this.boundary = this.nextCursor && last ? { ...last } : null;
  }

  get(id) { return this.items.find((t) => t.id === id) || null; }

  /**
   * Applies a task as it now is (from a response or a live update). Stale copies
   * (lower version) are ignored, since events and responses may cross. Returns
   * what happened: 'inserted', 'updated', 'moved', 'removed' or 'ignored'.
   */
  upsert(task) {
    const i = this.items.findIndex((t) => t.id === task.id);
    if (i >= 0 && this.items[i].version > task.version) return 'ignored';
    // Past the server's cursor (more pages to come), a task arrives with "load
    // more" in its proper place; showing it now would show it twice.
    const beyond = this.boundary !== null && this.compare(task, this.boundary) > 0;
    const belongs = this.matches(task);
    if (belongs === null) {
      // A filter query: ask the server again (the view reloads, debounced).
      this.emit({ kind: 'stale', task });
      return 'stale';
    }
    if (!belongs || beyond) {
      if (i < 0) return 'ignored';
      this.items.splice(i, 1);
      this.emit({ kind: 'remove', id: task.id });
      return 'removed';
    }
    if (i >= 0) this.items.splice(i, 1);
    const at = this.items.findIndex((t) => this.compare(task, t) < 0);
    const pos = at < 0 ? this.items.length : at;
    this.items.splice(pos, 0, task);
    const kind = i < 0 ? 'inserted' : i === pos ? 'updated' : 'moved';
    this.emit({ kind, task });
    return kind;
  }

  remove(id) {
    const i = this.items.findIndex((t) => t.id === id);
    if (i < 0) return false;
    this.items.splice(i, 1);
    this.emit({ kind: 'remove', id });
    return true;
  }

  /** Every tag among the loaded tasks, for the tag filter's suggestions. */
  tags() {
    return Array.from(new Set(this.items.flatMap((t) => t.tags || []))).sort();
  }

  emit(detail) { this.dispatchEvent(new CustomEvent('change', { detail })); }
}

export const tasks = new TaskList();
