// Reminders that fired (`GET /api/v1/notifications`, the notification service),
// and the browser's permission for desktop notifications.

import * as api from '../api.js';
import { $, h, icon, showText, toast } from '../dom.js';
import { formatDue, formatFull, relativeTime } from '../format.js';
import { session } from '../state.js';

let items = [];
let cursor = null;
let loaded = false;

export function initNotifications() {
  $('#notification-more').addEventListener('click', () => load(true));
  $('#notify-permission').addEventListener('click', async () => {
    await Notification.requestPermission();
    syncPermission();
  });
  syncPermission();
}

/** The permission button says what the browser will do with a reminder. */
function syncPermission() {
  const btn = $('#notify-permission');
  const text = $('#notify-permission-text');
  if (!('Notification' in window)) {
    btn.hidden = true;
    text.textContent = 'Reminders that have fired, newest first. They also pop up on this page while it is open.';
    return;
  }
  const p = Notification.permission;
  btn.hidden = p !== 'default';
  text.textContent = {
    granted: 'Reminders that have fired, newest first. Desktop notifications are on for this browser.',
    denied: 'Reminders that have fired, newest first. Desktop notifications are blocked in this browser’s site settings; reminders still pop up on this page.',
    default: 'Reminders that have fired, newest first. Turn on desktop notifications to see them while this tab is in the background.',
  }[p];
}

export async function loadNotifications() { await load(false); }

async function load(more) {
  const btn = $('#notification-more');
  btn.disabled = true;
  showText($('#notification-error'), '');
  try {
    const page = await api.listNotifications(more ? cursor : null);
    items = more ? items.concat(page.items.filter((n) => !items.some((x) => x.id === n.id))) : page.items;
    cursor = page.next_cursor || null;
    loaded = true;
    render();
  } catch (e) {
    if (e instanceof api.ApiError && e.status !== 401) showText($('#notification-error'), unreachable(e));
  } finally {
    btn.disabled = false;
  }
}

/** A 404 here means this server does not run the notification service. */
function unreachable(e) {
  return e.status === 404 || e.code === 'network'
    ? 'The notification service is not reachable from this page. In the distributed mode, set TODO_WEB_NOTIFICATIONS_URL on the chat-api.'
    : e.friendly;
}

/** A reminder that just fired (live): shown at once, without a reload. */
export function addFired(data, eventId) {
  if (!loaded) return;
  if (items.some((n) => n.id === eventId)) return;
  items.unshift({ id: eventId, task_id: data.task_id, title: data.title, due_at: data.due_at,
    remind_at: data.remind_at, fired_at: data.fired_at, late: Boolean(data.late) });
  render();
}

export function resetNotifications() {
  items = [];
  cursor = null;
  loaded = false;
  $('#notification-list').replaceChildren();
}

function render() {
  const tz = session.timezone;
  const now = new Date();
  $('#notification-list').replaceChildren(...items.map((n) => h('li.plain-item.notification',
    h('span.item-icon', icon('bell')),
    h('div.item-main',
      h('p.item-title', n.title),
      h('p.item-sub',
        n.due_at ? `Due ${formatDue(n.due_at, false, tz, now)} · ` : '',
        h('time', { datetime: n.fired_at, title: formatFull(n.fired_at, tz) }, `fired ${relativeTime(n.fired_at, tz, now)}`))),
    n.late && h('span.badge.badge-warn', { title: 'Fired more than a second after its time (the service was busy or down)' }, 'late'))));
  $('#notification-empty').hidden = items.length > 0;
  $('#notification-more').hidden = !cursor;
}

/** Pops up a reminder: a toast always, a desktop notification when allowed. */
export function announceReminder(data) {
  const tz = session.timezone;
  const due = data.due_at ? `Due ${formatDue(data.due_at, false, tz)}` : 'Reminder';
  toast(due, { kind: 'reminder', title: data.title });
  if ('Notification' in window && Notification.permission === 'granted') {
    try {
      // `tag` collapses duplicates when several tabs of the same user are open.
      const n = new Notification(data.title, { body: due, tag: `reminder-${data.task_id}-${data.remind_at}`, icon: '/favicon.svg' });
      n.onclick = () => { window.focus(); n.close(); };
    } catch { /* some platforms only allow notifications from a service worker */ }
  }
}
