// The task list: status tabs, filters, sort, "load more", and the actions on
// each task. The list is rendered keyed by task id, so a live update moves or
// replaces one row and keyboard focus stays where it was.

import * as api from '../api.js';
import { $, $$, confirmDialog, debounce, h, icon, toast } from '../dom.js';
import { formatDue, formatFull, isOverdue, dayDiff, reminderText } from '../format.js';
import { describeRule } from '../recurrence.js';
import { defaultFilter, session, tasks } from '../state.js';
import { clearQueryError, initFilters, showLists, showQueryError, syncQuery } from './filters.js';

const FILTER_KEY = 'todo.filter';
const PAGE = 50;
/** How long a completed task stays visible with its check mark before it leaves the list. */
const COMPLETE_LINGER_MS = 450;

let inflight = null;
let openEditor = () => {};

export function initTasks({ onEdit }) {
  openEditor = onEdit;
  restoreFilter();
  initFilters({ setFilter });
  syncControls();

  // Status tabs, with the arrow-key movement of the WAI-ARIA tabs pattern.
  const tabs = $$('#status-tabs [role=tab]');
  for (const tab of tabs) {
    tab.addEventListener('click', () => setFilter({ status: tab.dataset.status }));
    tab.addEventListener('keydown', (e) => {
      const i = tabs.indexOf(tab);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      const t = tabs[(next + tabs.length) % tabs.length];
      t.focus();
      t.click();
    });
  }

  const q = $('#filter-q');
  q.addEventListener('input', debounce(() => setFilter({ q: q.value }), 250));
  $('#filter-priority').addEventListener('change', (e) => setFilter({ priority: e.target.value }));
  const tag = $('#filter-tag');
  tag.addEventListener('input', debounce(() => setFilter({ tag: normalizeTag(tag.value) }), 300));
  tag.addEventListener('change', () => setFilter({ tag: normalizeTag(tag.value) }));
  $('#filter-overdue').addEventListener('change', (e) => setFilter({ overdue: e.target.checked }));
  $('#filter-sort').addEventListener('change', (e) => setFilter({ sort: e.target.value }));
  $('#filter-dir').addEventListener('click', () => setFilter({ desc: !tasks.filter.desc }));
  $('#filters').addEventListener('submit', (e) => e.preventDefault());
  $('#filters').addEventListener('reset', (e) => {
    e.preventDefault();
    const { status, sort, desc, query, list } = tasks.filter;
    setFilter({ ...defaultFilter(), status, sort, desc, query, list });
  });

  $('#new-task').addEventListener('click', () => openEditor(null));
  $('#load-more').addEventListener('click', loadMore);
  $('#task-list').addEventListener('click', onListClick);

  // A task that joins a list already on screen is highlighted once, so people
  // notice what arrived (a live update, a quick add).
  const reload = debounce(() => loadTasks(), 300);
  tasks.addEventListener('change', (e) => {
    if (e.detail.kind === 'stale') reload();
    else render(false, e.detail.kind === 'inserted' ? e.detail.task.id : null);
  });

  // "Today" becomes "Yesterday" and tasks become overdue without any event.
  setInterval(() => { if (tasks.loaded) render(true); }, 60_000);
}

function normalizeTag(v) { return v.trim().toLowerCase().replace(/^#/, ''); }

function restoreFilter() {
  try {
    const saved = JSON.parse(localStorage.getItem(FILTER_KEY) || 'null');
    // The query lives in the URL, not here.
    if (saved) tasks.filter = { ...defaultFilter(), ...saved, query: '', list: 0 };
  } catch { /* keep the default */ }
}

export function setFilter(change) {
  tasks.filter = { ...tasks.filter, ...change };
  localStorage.setItem(FILTER_KEY, JSON.stringify(tasks.filter));
  syncControls();
  loadTasks();
}

/** Puts the filter into the controls (after a restore, a reset or a tab change). */
function syncControls() {
  const f = tasks.filter;
  for (const tab of $$('#status-tabs [role=tab]')) {
    const on = tab.dataset.status === f.status;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    if (on) $('#task-panel').setAttribute('aria-labelledby', tab.id);
  }
  if ($('#filter-q').value !== f.q) $('#filter-q').value = f.q;
  $('#filter-priority').value = f.priority;
  if (normalizeTag($('#filter-tag').value) !== f.tag) $('#filter-tag').value = f.tag;
  $('#filter-overdue').checked = f.overdue;
  $('#filter-sort').value = f.sort;
  const dir = $('#filter-dir');
  dir.dataset.dir = f.desc ? 'desc' : 'asc';
  dir.setAttribute('aria-label', f.desc ? 'Descending order; switch to ascending' : 'Ascending order; switch to descending');
  dir.title = f.desc ? 'Descending' : 'Ascending';
  $('#filter-clear').hidden = !(f.priority || f.tag || f.q.trim() || f.overdue);
  syncQuery();
}

/** Loads the first page for the current filter (a newer load cancels an older one). */
export async function loadTasks() {
  if (inflight) inflight.abort();
  const ctl = new AbortController();
  inflight = ctl;
  $('#task-panel').setAttribute('aria-busy', 'true');
  if (!tasks.loaded) $('#list-status').textContent = 'Loading tasks…';
  try {
    const page = await api.listTasks(tasks.params({ limit: PAGE }), ctl.signal);
    if (inflight !== ctl) return;
    clearQueryError();
    showLists(page.lists);
    tasks.reset(page);
  } catch (e) {
    if (e.name === 'AbortError') return;
    if (e instanceof api.ApiError && e.code === 'invalid_filter') {
      showLists(null);
      showQueryError(e);
      return;
    }
    if (e instanceof api.ApiError && e.status !== 401) {
      $('#list-status').textContent = '';
      toast(e.friendly, { kind: 'error', title: 'Could not load tasks' });
    }
  } finally {
    if (inflight === ctl) {
      inflight = null;
      $('#task-panel').removeAttribute('aria-busy');
    }
  }
}

async function loadMore() {
  const btn = $('#load-more');
  if (!tasks.nextCursor) return;
  btn.disabled = true;
  btn.classList.add('busy');
  try {
    tasks.append(await api.listTasks(tasks.params({ limit: PAGE, cursor: tasks.nextCursor })));
  } catch (e) {
    if (e instanceof api.ApiError && e.code === 'validation_failed' && e.field === 'cursor') loadTasks();
    else if (e instanceof api.ApiError) toast(e.friendly, { kind: 'error' });
  } finally {
    btn.disabled = false;
    btn.classList.remove('busy');
  }
}

// ---- rendering --------------------------------------------------------------

function render(force = false, arrived = null) {
  const list = $('#task-list');
  const tz = session.timezone;
  const now = new Date();
  const existing = new Map(Array.from(list.children).map((li) => [li.dataset.id, li]));
  const active = document.activeElement;
  const focusedRow = active && list.contains(active) ? active.closest('li.task') : null;
  const focusedAction = active?.dataset?.action;

  let prev = null;
  for (const t of tasks.items) {
    let li = existing.get(t.id);
    existing.delete(t.id);
    if (!li || force || li.dataset.version !== String(t.version)) {
      const fresh = renderTask(t, tz, now);
      if (li) {
        li.replaceWith(fresh);
        if (li === focusedRow && focusedAction) fresh.querySelector(`[data-action="${focusedAction}"]`)?.focus();
      } else if (t.id === arrived) {
        fresh.classList.add('arrived');
      }
      li = fresh;
    }
    // Move only what is out of place: moving a focused element would drop focus.
    const want = prev ? prev.nextSibling : list.firstChild;
    if (want !== li) list.insertBefore(li, want);
    prev = li;
  }
  for (const gone of existing.values()) {
    if (gone === focusedRow) $('#tasks-heading').focus();
    gone.remove();
  }
  renderChrome();
}

/** Everything around the rows: counts, empty state, "load more", tag suggestions. */
function renderChrome() {
  const f = tasks.filter;
  const n = tasks.items.length;
  const more = Boolean(tasks.nextCursor);
  const noun = f.query ? 'task' : { pending: 'pending task', completed: 'completed task', all: 'task' }[f.status];
  $('#list-status').textContent = n === 0 ? '' : `${n}${more ? '+' : ''} ${noun}${n === 1 && !more ? '' : 's'}`;
  const empty = $('#task-empty');
  empty.hidden = n > 0 || !tasks.loaded;
  if (n === 0) {
    const [title, text] = f.query
      ? ['No tasks match this filter', 'Try another query, or clear it.']
      : tasks.isFiltered()
      ? ['No tasks match these filters', 'Try another search, or clear the filters.']
      : {
        pending: ['All clear', 'Nothing pending. Type a sentence above, like “call mom on Sunday at 6pm”.'],
        completed: ['Nothing completed yet', 'Tasks you check off show up here.'],
        all: ['No tasks yet', 'Type a sentence above, like “pay rent on the 1st of every month at 9am”.'],
      }[f.status];
    $('#task-empty-title').textContent = title;
    $('#task-empty-text').textContent = text;
  }
  $('#load-more').hidden = !more;
  $('#known-tags').replaceChildren(...tasks.tags().map((t) => h('option', { value: t })));
}

function renderTask(t, tz, now) {
  const done = t.status === 'completed';
  const overdue = isOverdue(t, now);
  const chips = [];
  if (t.due_at) {
    const diff = dayDiff(new Date(t.due_at), tz, now);
    const cls = overdue ? 'overdue' : diff === 0 ? 'today' : '';
    chips.push(h(`span.chip.chip-due${cls ? `.${cls}` : ''}`, { title: formatFull(t.due_at, tz, t.all_day) },
      icon('calendar'),
      h('time', { datetime: t.due_at }, formatDue(t.due_at, t.all_day, tz, now)),
      overdue && h('span.visually-hidden', ', overdue')));
  }
  if (t.priority !== 'medium') {
    chips.push(h(`span.chip.chip-priority.p-${t.priority}`, icon('flag'),
      t.priority === 'high' ? 'High' : 'Low', h('span.visually-hidden', ' priority')));
  }
  if (t.recurrence) {
    const words = describeRule(t.recurrence) + (t.repeat_from === 'completion' ? ' after completion' : '');
    chips.push(h('span.chip.chip-repeat', { title: `Repeats: ${t.recurrence}` }, icon('repeat'), words));
  }
  const remind = reminderText(t, tz, now);
  if (remind) {
    chips.push(h('span.chip.chip-remind', { title: `Reminder: ${formatFull(t.remind_at, tz)}` },
      icon('bell'), h('span.visually-hidden', 'Reminder '), remind));
  }
  for (const tag of t.tags || []) {
    chips.push(h('button.tag', {
      type: 'button', dataset: { action: 'tag', tag }, 'aria-label': `Show tasks tagged ${tag}`,
    }, `#${tag}`));
  }
  return h('li.task', {
    dataset: { id: t.id, version: String(t.version), priority: t.priority },
    class: `${done ? 'done' : ''} ${overdue ? 'is-overdue' : ''}`,
  },
  h('button.check', {
    type: 'button',
    dataset: { action: 'toggle' },
    'aria-pressed': String(done),
    'aria-label': done ? `Mark “${t.title}” as not done` : `Complete “${t.title}”`,
    title: done ? 'Mark as not done' : 'Complete',
  }, icon('check')),
  h('div.task-main',
    h('p.task-title', t.title),
    t.description && h('p.task-desc', t.description),
    chips.length > 0 && h('div.task-meta', chips)),
  h('div.task-actions',
    h('button.icon-button', { type: 'button', dataset: { action: 'edit' }, 'aria-label': `Edit “${t.title}”`, title: 'Edit' },
      icon('edit')),
    h('button.icon-button.danger-hover', {
      type: 'button', dataset: { action: 'delete' }, 'aria-label': `Delete “${t.title}”`, title: 'Delete',
    }, icon('trash'))));
}

// ---- actions ----------------------------------------------------------------

function onListClick(e) {
  const btn = e.target.closest('[data-action]');
  if (!btn) return;
  const li = btn.closest('li.task');
  const task = li && tasks.get(li.dataset.id);
  if (!task) return;
  switch (btn.dataset.action) {
    case 'toggle': toggle(task, li); break;
    case 'edit': openEditor(task); break;
    case 'delete': remove(task); break;
    case 'tag': setFilter({ tag: btn.dataset.tag }); break;
    default: break;
  }
}

async function toggle(task, li) {
  const completing = task.status === 'pending';
  // Shown at once; the list catches up when the server answers.
  li.classList.add(completing ? 'completing' : 'reopening');
  li.querySelector('.check')?.setAttribute('aria-pressed', String(completing));
  const started = Date.now();
  try {
    const updated = completing
      ? await api.completeTask(task.id, task.version)
      : await api.reopenTask(task.id, task.version);
    const wait = COMPLETE_LINGER_MS - (Date.now() - started);
    if (wait > 0 && !matchMedia('(prefers-reduced-motion: reduce)').matches) await sleep(wait);
    applyTask(updated);
    toast(completing ? `Completed “${updated.title}”.` : `Reopened “${updated.title}”.`, {
      kind: 'success',
      action: {
        label: 'Undo',
        run: () => {
          const cur = tasks.get(updated.id) || updated;
          (completing ? api.reopenTask(cur.id, cur.version) : api.completeTask(cur.id, cur.version))
            .then(applyTask, (err) => actionFailed(err, cur));
        },
      },
    });
    if (completing && updated.recurrence) toast('The next occurrence will appear in a moment.', { kind: 'info' });
  } catch (err) {
    li.classList.remove('completing', 'reopening');
    li.querySelector('.check')?.setAttribute('aria-pressed', String(!completing));
    actionFailed(err, task);
  }
}

async function remove(task) {
  const ok = await confirmDialog({
    title: `Delete “${task.title}”?`,
    text: task.recurrence
      ? 'This deletes this occurrence; it cannot be undone.'
      : 'This cannot be undone.',
  });
  if (!ok) return;
  try {
    await api.deleteTask(task.id, task.version);
    tasks.remove(task.id);
    toast(`Deleted “${task.title}”.`, { kind: 'success' });
  } catch (err) {
    actionFailed(err, task);
  }
}

/** Applies a task the server returned to the listing. */
export function applyTask(task) { tasks.upsert(task); }

/**
 * The common failures of an action on a task: someone changed it first (409:
 * reload it and say so), it is gone (404), or anything else.
 */
export async function actionFailed(err, task) {
  if (!(err instanceof api.ApiError)) throw err;
  if (err.code === 'version_mismatch') {
    try {
      applyTask(await api.getTask(task.id));
    } catch { /* the next live update or reload will bring it */ }
    toast(`“${task.title}” was changed somewhere else, so it was reloaded. Check it and try again.`, {
      kind: 'error', title: 'Changed elsewhere',
    });
  } else if (err.status === 404) {
    tasks.remove(task.id);
    toast(`“${task.title}” no longer exists.`, { kind: 'error' });
  } else if (err.status !== 401) {
    toast(err.friendly, { kind: 'error' });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
