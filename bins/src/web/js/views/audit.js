// The audit trail (`GET /api/v1/audit`, the audit service) and its verification
// (`GET /api/v1/audit/verify`: the server recomputes the hash chain).

import * as api from '../api.js';
import { $, debounce, fieldError, h, icon, showText } from '../dom.js';
import { formatDateTime, formatFull } from '../format.js';
import { session } from '../state.js';

const PAGE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const LABEL = {
  'todo.task.created.v1': 'Task created',
  'todo.task.updated.v1': 'Task updated',
  'todo.task.completed.v1': 'Task completed',
  'todo.task.deleted.v1': 'Task deleted',
  'todo.reminder.scheduled.v1': 'Reminder scheduled',
  'todo.reminder.cancelled.v1': 'Reminder cancelled',
  'todo.reminder.due.v1': 'Reminder fired',
  'todo.task.changed.v1': 'Live update sent',
};

let items = [];
let cursor = null;
let seq = 0;

export function initAudit() {
  $('#audit-verify').addEventListener('click', verify);
  $('#audit-more').addEventListener('click', () => load(true));
  $('#audit-type').addEventListener('change', () => load(false));
  $('#audit-task').addEventListener('input', debounce(() => load(false), 300));
  $('#audit-filters').addEventListener('submit', (e) => e.preventDefault());
  $('#audit-filters').addEventListener('reset', () => setTimeout(() => load(false)));
  $('#audit-list').addEventListener('click', (e) => {
    const b = e.target.closest('[data-task]');
    if (!b) return;
    $('#audit-task').value = b.dataset.task;
    load(false);
  });
}

export async function loadAudit() { await load(false); }

export function resetAudit() {
  items = [];
  cursor = null;
  $('#audit-list').replaceChildren();
  $('#audit-verdict').hidden = true;
}

async function load(more) {
  const taskInput = $('#audit-task');
  const taskId = taskInput.value.trim();
  showText($('#audit-error'), '');
  fieldError(taskInput, $('#audit-error'), '');
  if (taskId && !UUID.test(taskId)) {
    // Said here rather than sent: the server would only answer 422 with the same.
    fieldError(taskInput, $('#audit-error'), 'A task id looks like 0193a1b2-…: 36 characters with dashes.');
    return;
  }
  $('#audit-clear').hidden = !taskId && !$('#audit-type').value;
  const mine = ++seq;
  try {
    const page = await api.listAudit({
      type: $('#audit-type').value || undefined,
      task_id: taskId || undefined,
      limit: PAGE,
      cursor: more ? cursor : undefined,
    });
    if (mine !== seq) return; // a newer filter was asked for meanwhile
    items = more ? items.concat(page.items) : page.items;
    cursor = page.next_cursor || null;
    render();
  } catch (e) {
    if (e instanceof api.ApiError && e.status !== 401) showText($('#audit-error'), unreachable(e));
  }
}

function unreachable(e) {
  return e.status === 404 || e.code === 'network'
    ? 'The audit service is not reachable from this page. In the distributed mode, set TODO_WEB_AUDIT_URL on the chat-api.'
    : e.friendly;
}

function render() {
  const tz = session.timezone;
  $('#audit-list').replaceChildren(...items.map((a) => {
    const data = (a.event && a.event.data) || {};
    const title = (data.task_data && data.task_data.title) || data.title || '';
    const changes = Array.isArray(data.changes) && data.changes.length ? ` (${data.changes.join(', ').replace(/_/g, ' ')})` : '';
    return h('li.plain-item.audit-entry', { dataset: { type: a.event_type } },
      h('span.seq', { title: `Entry ${a.seq} of your chain` }, `#${a.seq}`),
      h('div.item-main',
        h('p.item-title', (LABEL[a.event_type] || a.event_type) + changes),
        h('p.item-sub',
          title && a.task_id
            ? h('button.link', { type: 'button', dataset: { task: a.task_id }, title: 'Show only this task' }, title)
            : title,
          title ? ' · ' : '',
          h('time', { datetime: a.occurred_at, title: formatFull(a.occurred_at, tz) }, formatDateTime(a.occurred_at, tz)))),
      h('code.hash', { title: `sha256 ${a.hash}\nprevious ${a.prev_hash}` }, a.hash.slice(0, 10)));
  }));
  $('#audit-empty').hidden = items.length > 0;
  $('#audit-more').hidden = !cursor;
}

async function verify() {
  const btn = $('#audit-verify');
  const out = $('#audit-verdict');
  btn.disabled = true;
  btn.classList.add('busy');
  try {
    const r = await api.verifyAudit();
    out.className = `verdict ${r.ok ? 'ok' : 'bad'}`;
    out.dataset.ok = String(r.ok);
    const n = r.entries_checked;
    const checked = `${n} entr${n === 1 ? 'y' : 'ies'} checked`;
    out.replaceChildren(
      icon(r.ok ? 'shield' : 'shieldOff', 'icon verdict-icon'),
      h('div',
        h('p.verdict-title', r.ok ? 'Chain intact' : 'Chain broken'),
        h('p.verdict-text', r.ok
          ? `${checked}; every hash matches its entry and the one before it.`
          : `${checked}. The first bad entry is #${r.first_bad.seq}: ${r.first_bad.reason}.`)));
    out.hidden = false;
  } catch (e) {
    if (e instanceof api.ApiError && e.status !== 401) {
      out.className = 'verdict bad';
      out.dataset.ok = 'error';
      out.replaceChildren(icon('alert', 'icon verdict-icon'), h('p.verdict-text', unreachable(e)));
      out.hidden = false;
    }
  } finally {
    btn.disabled = false;
    btn.classList.remove('busy');
  }
}
