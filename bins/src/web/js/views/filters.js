// The filter query box, its inline error (pointing at the offending characters),
// the saved filters in the sidebar, and the URL: `#/tasks?filter=<query>` opens
// the page on that query, and the URL follows the query typed, so a filtered
// view can be bookmarked or shared.

import * as api from '../api.js';
import { $, confirmDialog, h, icon, toast } from '../dom.js';
import { tasks } from '../state.js';

let setFilter = () => {};
let saved = [];

export function initFilters(opts) {
  setFilter = opts.setFilter;
  const input = $('#filter-query');
  $('#query-form').addEventListener('submit', (e) => {
    e.preventDefault();
    applyQuery(input.value);
  });
  input.addEventListener('input', () => {
    // Typing invalidates the error shown for the previous text.
    if (!$('#filter-query-error').hidden) clearQueryError();
  });
  $('#filter-query-clear').addEventListener('click', () => {
    input.value = '';
    applyQuery('');
    input.focus();
  });
  $('#filter-save').addEventListener('click', openSaveDialog);
  $('#save-filter-form').addEventListener('submit', saveFilter);
  $('#save-filter-dialog [data-close]').addEventListener('click', () => $('#save-filter-dialog').close());
  $('#saved-list').addEventListener('click', onSavedClick);
  $('#query-lists').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-list]');
    if (b) setFilter({ list: Number(b.dataset.list) });
  });
  window.addEventListener('hashchange', () => applyQuery(queryFromHash(), { fromUrl: true }));
  const q = queryFromHash();
  if (q !== tasks.filter.query) tasks.filter = { ...tasks.filter, query: q, list: 0 };
}

/** The query in the URL (`#/tasks?filter=...`), or ''. */
export function queryFromHash() {
  const m = /^#\/tasks\?(.*)$/.exec(location.hash);
  return m ? (new URLSearchParams(m[1]).get('filter') || '').trim() : '';
}

function applyQuery(text, { fromUrl = false } = {}) {
  if (fromUrl && !location.hash.startsWith('#/tasks')) return;
  const query = text.trim();
  if (query === tasks.filter.query) return;
  clearQueryError();
  setFilter({ query, list: 0 });
  if (!fromUrl) writeUrl(query);
}

/** The URL follows the query (replacing the entry: typing is not navigation). */
function writeUrl(query) {
  const hash = query ? `#/tasks?filter=${encodeURIComponent(query)}` : '#/tasks';
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

/** Puts the query into the box and the chrome around it. */
export function syncQuery() {
  const q = tasks.filter.query;
  const input = $('#filter-query');
  if (document.activeElement !== input && input.value !== q) input.value = q;
  $('#filter-query-clear').hidden = !q;
  $('#filter-save').hidden = !q;
  $('#status-tabs').hidden = Boolean(q);
  $('#query-status-note').hidden = !q;
  for (const a of document.querySelectorAll('#saved-list a')) {
    if (a.dataset.query === q) a.setAttribute('aria-current', 'true');
    else a.removeAttribute('aria-current');
  }
}

/** The lists of a query with commas: one button each, the one shown pressed. */
export function showLists(lists) {
  const box = $('#query-lists');
  const many = Array.isArray(lists) && lists.length > 1;
  box.hidden = !many;
  if (!many) return box.replaceChildren();
  box.replaceChildren(...lists.map((text, i) => h('button.ghost.small', {
    type: 'button', dataset: { list: String(i) }, 'aria-pressed': String((tasks.filter.list || 0) === i),
  }, text)));
}

// ---- the inline error -------------------------------------------------------

/**
 * Shows a 400 `invalid_filter` under the box: the message, and the query with the
 * offending characters marked (`span` counts characters, i.e. code points);
 * the same range is selected in the box.
 */
export function showQueryError(err) {
  const query = tasks.filter.query;
  const chars = Array.from(query);
  const [start, end] = Array.isArray(err.span) ? err.span : [chars.length, chars.length];
  const before = chars.slice(0, start).join('');
  const bad = chars.slice(start, end).join('');
  const after = chars.slice(end).join('');
  const box = $('#filter-query-error');
  box.replaceChildren(
    h('span.filter-error-message', err.friendly),
    h('code.filter-error-query', { 'aria-hidden': 'true' },
      before, bad ? h('mark', bad) : h('mark.caret', '\u200b'), after),
  );
  box.hidden = false;
  const input = $('#filter-query');
  input.setAttribute('aria-invalid', 'true');
  // The box holds UTF-16; the span counts code points.
  const from = before.length;
  input.setSelectionRange(from, from + bad.length);
  $('#list-status').textContent = '';
  tasks.reset({ items: [], next_cursor: null });
}

export function clearQueryError() {
  $('#filter-query-error').hidden = true;
  $('#filter-query-error').replaceChildren();
  $('#filter-query').removeAttribute('aria-invalid');
}

// ---- saved filters ----------------------------------------------------------

export async function loadSavedFilters() {
  try {
    saved = (await api.listFilters()).items;
  } catch (e) {
    if (e instanceof api.ApiError && e.status !== 401) toast(e.friendly, { kind: 'error', title: 'Could not load saved filters' });
    return;
  }
  renderSaved();
}

export function resetSavedFilters() {
  saved = [];
  renderSaved();
}

function renderSaved() {
  $('#saved-empty').hidden = saved.length > 0;
  $('#saved-list').replaceChildren(...saved.map((f) => h('li.saved-item',
    h('a.saved-link', {
      href: `#/tasks?filter=${encodeURIComponent(f.query)}`,
      title: f.query,
      dataset: { query: f.query },
    }, f.name),
    h('button.icon-button.danger-hover', {
      type: 'button', dataset: { action: 'delete-filter', id: f.id }, 'aria-label': `Delete saved filter “${f.name}”`, title: 'Delete',
    }, icon('trash')))));
  syncQuery();
}

async function onSavedClick(e) {
  const b = e.target.closest('button[data-action=delete-filter]');
  if (!b) return;
  const f = saved.find((x) => x.id === b.dataset.id);
  if (!f) return;
  const ok = await confirmDialog({ title: `Delete saved filter “${f.name}”?`, text: `Its query was: ${f.query}` });
  if (!ok) return;
  try {
    await api.deleteFilter(f.id);
    toast(`Deleted saved filter “${f.name}”.`, { kind: 'success' });
  } catch (err) {
    if (err instanceof api.ApiError && err.status !== 404) toast(err.friendly, { kind: 'error' });
  }
  loadSavedFilters();
}

function openSaveDialog() {
  const dlg = $('#save-filter-dialog');
  $('#save-filter-query').textContent = tasks.filter.query;
  $('#save-filter-name').value = '';
  $('#save-filter-error').hidden = true;
  dlg.showModal();
  $('#save-filter-name').focus();
}

async function saveFilter(e) {
  e.preventDefault();
  const name = $('#save-filter-name').value.trim();
  const error = $('#save-filter-error');
  if (!name) {
    error.textContent = 'Give the filter a name.';
    error.hidden = false;
    return;
  }
  try {
    const f = await api.createFilter(name, tasks.filter.query);
    $('#save-filter-dialog').close();
    toast(`Saved “${f.name}”.`, { kind: 'success' });
    loadSavedFilters();
  } catch (err) {
    if (!(err instanceof api.ApiError)) throw err;
    error.textContent = err.friendly;
    error.hidden = false;
  }
}
