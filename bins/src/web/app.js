// Todo Events, the web page: boot, session, routing between views, and live
// updates. Views live in js/views/, the HTTP API in js/api.js, state in js/state.js.

import * as api from './js/api.js';
import { $, $$, toast } from './js/dom.js';
import { LiveConnection } from './js/live.js';
import { session, tasks } from './js/state.js';
import { initAudit, loadAudit, resetAudit } from './js/views/audit.js';
import { initAuth, showAuth } from './js/views/auth.js';
import { clearConversation, initChat, loadConversation } from './js/views/chat.js';
import { initConnections, loadConnections, resetConnections } from './js/views/connections.js';
import { initEditor, openEditor } from './js/views/editor.js';
import {
  addFired, announceReminder, initNotifications, loadNotifications, resetNotifications,
} from './js/views/notifications.js';
import { loadSavedFilters, resetSavedFilters } from './js/views/filters.js';
import { applyTask, initTasks, loadTasks } from './js/views/tasks.js';

const ROUTES = ['tasks', 'notifications', 'audit', 'connections'];
const TITLES = { tasks: 'Tasks', notifications: 'Reminders', audit: 'Audit trail', connections: 'Connections' };

const live = new LiveConnection({
  url: () => api.endpoints.ws(),
  token: () => session.token,
  onEvent,
  onState: showLiveState,
  onOpen(reconnected) {
    // Events sent while we were away are gone: catch up from the API.
    if (reconnected) refreshCurrentView();
  },
  onFailures(n) {
    // The upgrade answer (401 for a bad token) is invisible to a WebSocket; after a
    // few failed tries, ask the API whether the session itself is still good.
    if (session.expired()) signOut('Your session expired. Sign in again.');
    else if (n === 3) api.listTasks({ limit: 1 }).catch(() => {});
  },
});

// ---- boot -------------------------------------------------------------------

function boot() {
  api.onSessionExpired(() => signOut('Your session expired. Sign in again.'));
  initAuth(signedIn);
  initTasks({ onEdit: openEditor });
  initEditor();
  initChat({ onActions: applyChatActions });
  initNotifications();
  initAudit();
  initConnections();

  $('#sign-out').addEventListener('click', () => signOut());
  $('#live-indicator').addEventListener('click', () => live.reconnectNow());
  $('#assistant-toggle').addEventListener('click', () => toggleAssistant());
  $('#assistant-close').addEventListener('click', () => toggleAssistant(false));
  document.addEventListener('keydown', onGlobalKey);
  // The account menu is a <details>; a click anywhere else closes it, as menus do.
  document.addEventListener('click', (e) => {
    const menu = $('#usermenu');
    if (menu.open && !menu.contains(e.target)) menu.open = false;
  });
  window.addEventListener('hashchange', () => route(true));
  // Signing in or out in another tab applies here too.
  window.addEventListener('storage', (e) => {
    if (e.key !== 'todo.session') return;
    if (!e.newValue && session.token) signOut('You signed out in another tab.', false);
    else if (e.newValue && !session.token && session.load()) enter();
  });

  if (session.load()) enter();
  else showAuth();
}

function signedIn(token, user) {
  session.save(token, user);
  enter();
}

/** Shows the app for the current session. */
function enter() {
  api.setToken(session.token);
  $('#auth-view').hidden = true;
  $('#app-view').hidden = false;
  $('#user-email').textContent = session.user.email;
  $('#user-tz').textContent = session.user.timezone.replace(/_/g, ' ');
  $('#user-avatar').textContent = (session.user.email[0] || '?').toUpperCase();
  route(false);
  loadTasks();
  loadSavedFilters();
  loadConversation();
  live.start();
}

function signOut(reason = '', here = true) {
  live.stop();
  if (here) session.clear();
  else { session.token = null; session.user = null; }
  api.setToken(null);
  tasks.reset({ items: [], next_cursor: null });
  tasks.loaded = false;
  resetNotifications();
  resetAudit();
  resetSavedFilters();
  resetConnections();
  clearConversation();
  $('#usermenu').open = false;
  for (const d of $$('dialog[open]')) d.close();
  current = null; // the next sign-in loads its first view afresh
  showAuth(reason);
}

// ---- routing ----------------------------------------------------------------

let current = null;

/**
 * `#/tasks`, `#/notifications`, `#/audit`, `#/connections`: hash routes need
 * nothing from the server. `#/tasks?filter=<query>` is the task list under a
 * filter query.
 */
function route(moveFocus) {
  if (!session.token) return;
  const name = ROUTES.find((r) => location.hash === `#/${r}` || location.hash.startsWith(`#/${r}?`)) || 'tasks';
  for (const r of ROUTES) $(`#view-${r}`).hidden = r !== name;
  for (const a of $$('.mainnav a')) {
    if (a.dataset.route === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${TITLES[name]} · Todo Events`;
  const changed = current !== name;
  current = name;
  if (name === 'notifications') { $('#notif-dot').hidden = true; if (changed) loadNotifications(); }
  if (name === 'audit' && changed) loadAudit();
  if (name === 'connections' && changed) loadConnections();
  // Moving focus to the new heading tells screen-reader users the view changed.
  if (moveFocus) $(`#${name === 'tasks' ? 'tasks' : name}-heading`).focus();
}

function refreshCurrentView() {
  loadTasks();
  if (current === 'notifications') loadNotifications();
  if (current === 'audit') loadAudit();
}

// ---- live updates -----------------------------------------------------------

function onEvent(event) {
  const data = event.data || {};
  switch (event.type) {
    case 'todo.task.changed.v1':
      if (data.change_type === 'deleted') tasks.remove(data.task_id);
      else if (data.task_data) tasks.upsert(data.task_data);
      break;
    case 'todo.reminder.due.v1':
      announceReminder(data);
      addFired(data, event.id);
      if (current !== 'notifications') $('#notif-dot').hidden = false;
      break;
    default:
      break; // other types may be added by the server; they are not for this page
  }
}

const LIVE_TEXT = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline', stopped: 'Off' };

function showLiveState(state, info) {
  const el = $('#live-indicator');
  el.dataset.state = state;
  $('.live-text', el).textContent = LIVE_TEXT[state] || state;
  const url = api.endpoints.ws();
  el.title = {
    live: `Live updates on (${url})`,
    connecting: `Connecting to ${url}`,
    reconnecting: info.retryAt
      ? `Live updates interrupted; retrying at ${new Date(info.retryAt).toLocaleTimeString()}. Click to retry now.`
      : `Reconnecting to ${url}`,
    offline: 'You are offline; changes from elsewhere appear when the connection is back.',
  }[state] || '';
  el.setAttribute('aria-label', `Live updates: ${LIVE_TEXT[state] || state}. ${state === 'live' ? '' : 'Activate to retry now.'}`);
}

/** The assistant's tool calls change tasks: apply them now rather than wait for the WebSocket. */
function applyChatActions(actions) {
  for (const a of actions || []) {
    const r = a.result || {};
    if (r.error) continue;
    // "undo" answers with the task as it is again, or {deleted} for an undone add.
    if (['add_task', 'complete_task', 'update_task', 'skip_occurrence', 'undo'].includes(a.tool) && r.id) applyTask(r);
    if (['delete_task', 'undo'].includes(a.tool) && r.deleted) tasks.remove(r.deleted);
    if (a.tool === 'save_filter' && r.id) loadSavedFilters();
  }
}

// ---- chrome -----------------------------------------------------------------

function toggleAssistant(open) {
  const panel = $('#assistant');
  const show = open ?? !panel.classList.contains('open');
  panel.classList.toggle('open', show);
  $('#assistant-toggle').setAttribute('aria-expanded', String(show));
  if (show) $('#chat-input').focus();
  else $('#assistant-toggle').focus();
}

/** `/` or `n` focuses quick add (as in many task apps); Escape closes the drawer and the account menu. */
function onGlobalKey(e) {
  if (!session.token || e.ctrlKey || e.metaKey || e.altKey) return;
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName) || document.querySelector('dialog[open]');
  if (e.key === 'Escape') {
    if ($('#assistant').classList.contains('open')) toggleAssistant(false);
    if ($('#usermenu').open) { $('#usermenu').open = false; $('#usermenu summary').focus(); }
    return;
  }
  if (typing) return;
  if (e.key === '/' || e.key === 'n') {
    e.preventDefault();
    if (current !== 'tasks') location.hash = '#/tasks';
    $('#quick-input').focus();
  }
}

// Surface unexpected errors instead of failing silently.
window.addEventListener('unhandledrejection', (e) => {
  const err = e.reason;
  if (err instanceof api.ApiError) {
    if (err.status !== 401) toast(err.friendly, { kind: 'error' });
    e.preventDefault();
  }
});

boot();
