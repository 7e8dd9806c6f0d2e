// Dates in the user's time zone. The server stores UTC and reads sentences in
// the account's IANA zone, so the page shows and edits times in that same zone
// (not necessarily the browser's): "tomorrow at 5pm" then looks like 5pm here.

const MINUTE = 60_000;
const DAY = 86_400_000;

const cache = new Map();
function fmt(tz, opts) {
  const key = tz + JSON.stringify(opts);
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, { timeZone: tz, ...opts });
    cache.set(key, f);
  }
  return f;
}

/** Wall-clock parts of `date` in `tz`: {year, month (1-12), day, hour, minute, weekday (0=Sun)}. */
export function zonedParts(date, tz) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
    hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short',
  }).formatToParts(date);
  const get = (t) => parts.find((p) => p.type === t)?.value;
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    hour: Number(get('hour')) % 24,
    minute: Number(get('minute')),
    second: Number(get('second')),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday')),
  };
}

/** Offset of `tz` from UTC at instant `ms`, in ms. */
function offsetAt(ms, tz) {
  const p = zonedParts(new Date(ms), tz);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant when the wall clock in `tz` shows `dateStr` (YYYY-MM-DD) at
 * `timeStr` (HH:MM). Two passes settle DST edges: a time skipped by a spring-forward
 * lands just after the gap, an ambiguous autumn time on its first occurrence.
 */
export function zonedToUtc(dateStr, timeStr, tz) {
  const [y, mo, d] = dateStr.split('-').map(Number);
  const [hh, mm] = (timeStr || '00:00').split(':').map(Number);
  const wall = Date.UTC(y, mo - 1, d, hh, mm);
  let t = wall - offsetAt(wall, tz);
  t = wall - offsetAt(t, tz);
  return new Date(t);
}

const pad = (n) => String(n).padStart(2, '0');

/** `{date: 'YYYY-MM-DD', time: 'HH:MM'}` of an instant in `tz`, for form inputs. */
export function toInputs(iso, tz) {
  if (!iso) return { date: '', time: '' };
  const p = zonedParts(new Date(iso), tz);
  return { date: `${p.year}-${pad(p.month)}-${pad(p.day)}`, time: `${pad(p.hour)}:${pad(p.minute)}` };
}

/** Days from today to the local date of `date` in `tz` (0 today, 1 tomorrow, -1 yesterday). */
export function dayDiff(date, tz, now = new Date()) {
  const a = zonedParts(date, tz);
  const b = zonedParts(now, tz);
  return Math.round((Date.UTC(a.year, a.month - 1, a.day) - Date.UTC(b.year, b.month - 1, b.day)) / DAY);
}

export function formatTime(date, tz) {
  return fmt(tz, { hour: 'numeric', minute: '2-digit' }).format(date);
}

function dateLabel(date, tz, now) {
  const diff = dayDiff(date, tz, now);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Tomorrow';
  if (diff === -1) return 'Yesterday';
  if (diff > 1 && diff < 7) return fmt(tz, { weekday: 'long' }).format(date);
  const sameYear = zonedParts(date, tz).year === zonedParts(now, tz).year;
  return fmt(tz, sameYear ? { weekday: 'short', day: 'numeric', month: 'short' }
    : { day: 'numeric', month: 'short', year: 'numeric' }).format(date);
}

/** "Today, 5:00 PM", "Friday", "Mon, 3 Dec": all-day tasks as a date only. */
export function formatDue(iso, allDay, tz, now = new Date()) {
  const d = new Date(iso);
  const label = dateLabel(d, tz, now);
  return allDay ? label : `${label}, ${formatTime(d, tz)}`;
}

/** The full date and time, for tooltips and screen readers. */
export function formatFull(iso, tz, allDay = false) {
  const d = new Date(iso);
  return allDay
    ? fmt(tz, { dateStyle: 'full' }).format(d)
    : fmt(tz, { dateStyle: 'full', timeStyle: 'short' }).format(d);
}

export function formatDateTime(iso, tz) {
  return fmt(tz, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** Whether a pending task is past due, as the server judges `overdue=true`. */
export function isOverdue(task, now = new Date()) {
  if (task.status !== 'pending' || !task.due_at) return false;
  const due = new Date(task.due_at).getTime();
  return task.all_day ? due <= now.getTime() - DAY : due < now.getTime();
}

/** "30 min before", "1 hour before", "at due time": a reminder relative to its due time. */
export function reminderOffsetText(minutes) {
  if (minutes === 0) return 'at due time';
  if (minutes < 0) return `${-minutes} min after`;
  if (minutes % 1440 === 0) return minutes === 1440 ? '1 day before' : `${minutes / 1440} days before`;
  if (minutes % 60 === 0) return minutes === 60 ? '1 hour before' : `${minutes / 60} hours before`;
  return `${minutes} min before`;
}

export function reminderText(task, tz, now = new Date()) {
  if (!task.remind_at) return null;
  if (task.due_at) {
    const mins = Math.round((new Date(task.due_at) - new Date(task.remind_at)) / MINUTE);
    if (!task.all_day && mins >= 0 && mins <= 7 * 1440) return reminderOffsetText(mins);
  }
  return formatDue(task.remind_at, false, tz, now);
}

/** "just now", "5 min ago", "3 h ago", else a date. */
export function relativeTime(iso, tz, now = new Date()) {
  const diff = now - new Date(iso);
  if (diff < 45_000) return 'just now';
  if (diff < 3_600_000) return `${Math.round(diff / MINUTE)} min ago`;
  if (diff < DAY) return `${Math.round(diff / 3_600_000)} h ago`;
  return formatDateTime(iso, tz);
}

/** Every IANA zone this browser knows, with `current` guaranteed among them. */
export function timeZones(current) {
  let zones = [];
  try { zones = Intl.supportedValuesOf('timeZone'); } catch { zones = []; }
  const all = new Set(zones);
  all.add(current);
  all.add('UTC');
  return Array.from(all).sort();
}

export function browserTimeZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { return 'UTC'; }
}
