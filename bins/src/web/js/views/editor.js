// The task editor (a modal <dialog>): create a task, or change one with
// optimistic concurrency. A save sends only the fields the person changed, with
// `If-Match: <version>`; when someone else changed the task first (409), their
// version is loaded and the person's edits stay in the form to be saved on top.

import * as api from '../api.js';
import { fieldError, h, showText, toast } from '../dom.js';
import { formatFull, toInputs, zonedParts, zonedToUtc } from '../format.js';
import { describeRule, normalizeRule, presets } from '../recurrence.js';
import { session } from '../state.js';
import { applyTask } from './tasks.js';

const FIELDS = ['title', 'description', 'due_at', 'all_day', 'remind_at', 'tags', 'recurrence'];
const OFFSETS = ['0', '5', '15', '30', '60', '1440'];

/** The task being edited as it was when the editor opened (null: a new task). */
let original = null;
/** The time inputs as the editor opened them: inputs hold minutes, tasks may hold seconds. */
let openedTimes = null;
/** The version a save must match (moves forward after a conflict). */
let version = null;
let saving = false;

const el = {};

export function initEditor() {
  for (const id of ['task-dialog', 'task-form', 'task-title', 'task-description', 'task-due-date', 'task-due-time',
    'task-all-day', 'task-reminder', 'task-remind-at', 'task-tags', 'task-repeat', 'task-rrule', 'task-rrule-text',
    'task-rrule-field', 'task-repeat-from', 'task-repeat-from-field', 'task-save', 'task-notice', 'task-error',
    'task-tz-hint', 'task-dialog-title']) {
    el[id.replace(/^task-/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase())] = document.getElementById(id);
  }
  for (const b of el.dialog.querySelectorAll('[data-close]')) b.addEventListener('click', () => el.dialog.close());
  el.dueDate.addEventListener('change', () => { refreshPresets(true); syncTimeFields(); });
  el.allDay.addEventListener('change', syncTimeFields);
  el.dueTime.addEventListener('change', syncTimeFields);
  el.reminder.addEventListener('change', () => {
    if (el.reminder.value === 'custom' && !el.remindAt.value) el.remindAt.value = defaultCustomReminder();
    syncTimeFields();
    if (el.reminder.value === 'custom') el.remindAt.focus();
  });
  el.remindAt.addEventListener('change', syncTimeFields);
  el.repeat.addEventListener('change', () => {
    const p = currentPresets().find((x) => x.value === el.repeat.value);
    if (p && p.rule !== null) el.rrule.value = p.rule;
    syncRecurrence();
    if (el.repeat.value === 'custom') el.rrule.focus();
  });
  el.rrule.addEventListener('input', () => { matchPreset(); syncRecurrence(); });
  el.form.addEventListener('submit', (e) => { e.preventDefault(); save(); });
}

/** Opens the editor for `task`, or empty for a new one. */
export function openEditor(task) {
  original = task;
  version = task ? task.version : null;
  const tz = session.timezone;
  clearErrors();
  showText(el.notice, '');
  el.dialogTitle.textContent = task ? 'Edit task' : 'New task';
  el.save.textContent = task ? 'Save changes' : 'Add task';
  el.title.value = task ? task.title : '';
  el.description.value = task ? task.description || '' : '';
  const due = toInputs(task && task.due_at, tz);
  el.dueDate.value = due.date;
  el.dueTime.value = task && task.all_day ? '' : due.time;
  el.allDay.checked = Boolean(task && task.all_day);
  setReminder(task);
  for (const r of el.form.querySelectorAll('input[name=priority]')) r.checked = r.value === (task ? task.priority : 'medium');
  el.tags.value = task ? (task.tags || []).join(' ') : '';
  el.rrule.value = task && task.recurrence ? task.recurrence : '';
  el.repeatFrom.value = task ? task.repeat_from || 'due' : 'due';
  el.tzHint.textContent = `Times are in ${tz.replace(/_/g, ' ')}.`;
  refreshPresets(false);
  matchPreset();
  syncRecurrence();
  syncTimeFields();
  openedTimes = timeInputs();
  el.dialog.showModal();
  el.title.focus();
  if (task) el.title.select();
}

function setReminder(task) {
  el.remindAt.value = '';
  if (!task || !task.remind_at) { el.reminder.value = 'none'; return; }
  if (task.due_at) {
    const mins = Math.round((new Date(task.due_at) - new Date(task.remind_at)) / 60_000);
    if (OFFSETS.includes(String(mins))) { el.reminder.value = String(mins); return; }
  }
  el.reminder.value = 'custom';
  const r = toInputs(task.remind_at, session.timezone);
  el.remindAt.value = `${r.date}T${r.time}`;
}

function defaultCustomReminder() {
  const due = dueFromForm();
  const base = due.due_at ? new Date(due.due_at) : new Date(Date.now() + 3_600_000);
  const r = toInputs(base.toISOString(), session.timezone);
  return `${r.date}T${r.time}`;
}

/** Shows the time input unless all-day, and says when the reminder will fire. */
function syncTimeFields() {
  const hasDate = Boolean(el.dueDate.value);
  el.dueTime.hidden = el.allDay.checked;
  el.allDay.disabled = !hasDate;
  // Reminders relative to the due time need one.
  for (const o of el.reminder.options) if (OFFSETS.includes(o.value)) o.disabled = !hasDate;
  if (!hasDate && OFFSETS.includes(el.reminder.value)) el.reminder.value = 'none';
  el.remindAt.hidden = el.reminder.value !== 'custom';
  const remind = reminderFromForm();
  const hint = remind && remind.remind_at ? `Reminds you ${formatFull(remind.remind_at, session.timezone)}.` : '';
  el.reminder.title = hint;
  el.tzHint.textContent = `Times are in ${session.timezone.replace(/_/g, ' ')}.${hint ? ` ${hint}` : ''}`;
}

function currentPresets() {
  const tz = session.timezone;
  const base = el.dueDate.value ? zonedToUtc(el.dueDate.value, '12:00', tz) : new Date();
  return presets(zonedParts(base, tz));
}

/** Rebuilds the preset labels for the due date ("Every week on Tuesday"). */
function refreshPresets(followDate) {
  const selected = el.repeat.value;
  const list = currentPresets();
  el.repeat.replaceChildren(...list.map((p) => h('option', { value: p.value }, p.label)));
  if (selected && list.some((p) => p.value === selected)) el.repeat.value = selected;
  // A preset tied to the date follows it when the date changes.
  if (followDate) {
    const p = list.find((x) => x.value === el.repeat.value);
    if (p && p.rule) el.rrule.value = p.rule;
    syncRecurrence();
  }
}

function matchPreset() {
  const rule = normalizeRule(el.rrule.value);
  if (!rule) { el.repeat.value = 'none'; return; }
  const p = currentPresets().find((x) => x.rule && normalizeRule(x.rule) === rule);
  el.repeat.value = p ? p.value : 'custom';
}

function syncRecurrence() {
  const rule = el.rrule.value.trim();
  el.rruleField.hidden = el.repeat.value === 'none' && !rule;
  el.repeatFromField.hidden = !rule;
  el.rruleText.textContent = rule ? describeRule(rule) : '';
}

// ---- reading the form -------------------------------------------------------

function dueFromForm() {
  const tz = session.timezone;
  if (!el.dueDate.value) return { due_at: null, all_day: false };
  // A date without a time is an all-day task, as in the chat ("on Friday").
  const allDay = el.allDay.checked || !el.dueTime.value;
  const at = zonedToUtc(el.dueDate.value, allDay ? '00:00' : el.dueTime.value, tz);
  return { due_at: at.toISOString(), all_day: allDay };
}

function reminderFromForm() {
  const v = el.reminder.value;
  if (v === 'none') return { remind_at: null };
  if (v === 'custom') {
    if (!el.remindAt.value) return null;
    const [d, t] = el.remindAt.value.split('T');
    return { remind_at: zonedToUtc(d, t, session.timezone).toISOString() };
  }
  const due = dueFromForm();
  if (!due.due_at) return { remind_at: null };
  return { remind_at: new Date(new Date(due.due_at).getTime() - Number(v) * 60_000).toISOString() };
}

function tagsFromForm() {
  return Array.from(new Set(el.tags.value.split(/[\s,]+/).map((t) => t.replace(/^#/, '').toLowerCase()).filter(Boolean)));
}

/** Every editable field as the form has it. */
function readForm() {
  const priority = el.form.querySelector('input[name=priority]:checked');
  const rule = el.rrule.value.trim().replace(/^RRULE:/i, '');
  return {
    title: el.title.value.trim(),
    description: el.description.value,
    priority: priority ? priority.value : 'medium',
    tags: tagsFromForm(),
    ...dueFromForm(),
    ...(reminderFromForm() || { remind_at: null }),
    recurrence: rule || null,
    repeat_from: el.repeatFrom.value,
  };
}

/** What the due and reminder inputs show, to tell whether the person touched them. */
function timeInputs() {
  return {
    due: [el.dueDate.value, el.allDay.checked ? '' : el.dueTime.value, el.allDay.checked].join('|'),
    remind: [el.reminder.value, el.reminder.value === 'custom' ? el.remindAt.value : ''].join('|'),
  };
}

/**
 * The fields that differ from the task as it was opened. Times count as changed
 * only when their inputs did: re-reading "17:32" would otherwise drop the seconds
 * of a due time set through the API and send a change nobody made.
 */
function changes(form, task) {
  const patch = {};
  if (form.title !== task.title) patch.title = form.title;
  if (form.description !== (task.description || '')) patch.description = form.description;
  if (form.priority !== task.priority) patch.priority = form.priority;
  if (form.tags.slice().sort().join() !== (task.tags || []).slice().sort().join()) patch.tags = form.tags;
  const now = timeInputs();
  if (now.due !== openedTimes.due) {
    patch.due_at = form.due_at;
    patch.all_day = form.all_day;
  }
  // Sent whenever the due time moves too, so a preset like "30 minutes before"
  // stays what the form says (the server would otherwise keep the old offset).
  if (now.remind !== openedTimes.remind || 'due_at' in patch) patch.remind_at = form.remind_at;
  if (normalizeRule(form.recurrence || '') !== normalizeRule(task.recurrence || '')) patch.recurrence = form.recurrence;
  if (form.recurrence && form.repeat_from !== (task.repeat_from || 'due')) patch.repeat_from = form.repeat_from;
  return patch;
}

// ---- saving -----------------------------------------------------------------

async function save() {
  if (saving) return;
  clearErrors();
  const form = readForm();
  if (!form.title) return fail('title', 'Give the task a title.');
  if (el.reminder.value === 'custom' && !el.remindAt.value) return fail('remind_at', 'Choose when to be reminded.');
  saving = true;
  el.save.disabled = true;
  el.save.classList.add('busy');
  try {
    if (!original) {
      const body = { ...form };
      for (const k of ['due_at', 'remind_at', 'recurrence']) if (body[k] === null) delete body[k];
      if (!body.due_at) delete body.all_day;
      if (!body.recurrence) delete body.repeat_from;
      if (!body.description) delete body.description;
      const created = await api.createTask(body);
      applyTask(created);
      toast(`Added “${created.title}”.`, { kind: 'success' });
    } else {
      const patch = changes(form, original);
      if (Object.keys(patch).length === 0) { el.dialog.close(); return; }
      const updated = await api.updateTask(original.id, patch, version);
      applyTask(updated);
      toast(`Saved “${updated.title}”.`, { kind: 'success' });
    }
    el.dialog.close();
  } catch (err) {
    await saveFailed(err);
  } finally {
    saving = false;
    el.save.disabled = false;
    el.save.classList.remove('busy');
  }
}

async function saveFailed(err) {
  if (!(err instanceof api.ApiError)) throw err;
  if (err.code === 'version_mismatch') {
    try {
      const fresh = await api.getTask(original.id);
      applyTask(fresh);
      version = fresh.version;
      showText(el.notice, 'Someone changed this task while you were editing it; the list now shows their version. '
        + 'Your edits are still here: save again to apply them on top, or cancel to keep theirs.');
    } catch (e) {
      if (e instanceof api.ApiError && e.status === 404) {
        showText(el.notice, 'This task was deleted elsewhere. Cancel to close the editor.');
      } else {
        showText(el.notice, 'Someone changed this task while you were editing it. Close the editor and try again.');
      }
    }
    el.notice.scrollIntoView({ block: 'nearest' });
    return;
  }
  if (err.status === 404 && original) {
    showText(el.notice, 'This task was deleted elsewhere. Cancel to close the editor.');
    return;
  }
  if (err.field && FIELDS.includes(err.field)) fail(err.field, err.friendly);
  else showText(el.error, err.friendly);
}

const INPUT_OF = {
  title: 'title', description: 'description', due_at: 'dueDate', all_day: 'allDay', remind_at: 'reminder',
  tags: 'tags', recurrence: 'rrule',
};

function fail(field, message) {
  const input = el[INPUT_OF[field]];
  fieldError(input, document.getElementById(`task-${field}-error`), message);
  if (field === 'recurrence') { el.rruleField.hidden = false; }
  input?.focus();
}

function clearErrors() {
  for (const f of FIELDS) fieldError(el[INPUT_OF[f]], document.getElementById(`task-${f}-error`), '');
  showText(el.error, '');
}
