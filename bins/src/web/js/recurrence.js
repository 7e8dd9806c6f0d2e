// RFC 5545 recurrence rules in words, and the presets of the task editor. Only
// the common shapes are put into words; anything else is shown as the rule itself
// rather than guessed at (the server's `rrule` engine is the authority).

const DAYS = { MO: 'Monday', TU: 'Tuesday', WE: 'Wednesday', TH: 'Thursday', FR: 'Friday', SA: 'Saturday', SU: 'Sunday' };
const DAY_CODES = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];
const NTH = { 1: 'first', 2: 'second', 3: 'third', 4: 'fourth', 5: 'fifth', '-1': 'last', '-2': 'second to last' };

/** `FREQ=WEEKLY;BYDAY=MO` → {FREQ: 'WEEKLY', BYDAY: 'MO'}; null if it is not a rule. */
export function parseRule(rule) {
  if (!rule) return null;
  const out = {};
  for (const part of rule.replace(/^RRULE:/i, '').split(';')) {
    if (!part) continue;
    const [k, v] = part.split('=');
    if (!k || v === undefined) return null;
    out[k.trim().toUpperCase()] = v.trim().toUpperCase();
  }
  return out.FREQ ? out : null;
}

function ordinal(n) {
  const s = ['th', 'st', 'nd', 'rd'];
  const v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}

function list(words) {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function dayWords(byday, short) {
  const codes = byday.split(',');
  const key = codes.slice().sort().join(',');
  if (key === 'FR,MO,TH,TU,WE') return 'weekday';
  if (key === 'SA,SU') return 'weekend';
  const names = codes.map((c) => DAYS[c] || c);
  return list(short && names.length > 2 ? names.map((n) => n.slice(0, 3)) : names);
}

/** "Every Monday", "Every 2 weeks on Tuesday and Thursday", "Every month on the 1st". */
export function describeRule(rule) {
  const r = parseRule(rule);
  if (!r) return rule || '';
  const n = Number(r.INTERVAL || '1');
  const every = (unit) => (n === 1 ? `Every ${unit}` : `Every ${n} ${unit}s`);
  let text = null;
  const simple = (keys) => Object.keys(r).every((k) => ['FREQ', 'INTERVAL', 'UNTIL', 'WKST', ...keys].includes(k));
  switch (r.FREQ) {
    case 'HOURLY':
      if (simple([])) text = every('hour');
      break;
    case 'DAILY':
      if (simple([])) text = every('day');
      break;
    case 'WEEKLY':
      if (simple(['BYDAY'])) {
        if (!r.BYDAY) text = every('week');
        else if (!/^([A-Z]{2},)*[A-Z]{2}$/.test(r.BYDAY)) break;
        else if (n === 1) text = `Every ${dayWords(r.BYDAY, true)}`;
        else text = `${every('week')} on ${dayWords(r.BYDAY, true)}`;
      }
      break;
    case 'MONTHLY':
      if (simple([])) text = every('month');
      else if (simple(['BYMONTHDAY']) && /^-?\d+$/.test(r.BYMONTHDAY)) {
        const d = Number(r.BYMONTHDAY);
        text = `${every('month')} on the ${d === -1 ? 'last day' : ordinal(d)}`;
      } else if (simple(['BYDAY'])) {
        const m = /^([+-]?\d)([A-Z]{2})$/.exec(r.BYDAY);
        if (m && NTH[Number(m[1])]) text = `${every('month')} on the ${NTH[Number(m[1])]} ${DAYS[m[2]]}`;
      } else if (simple(['BYDAY', 'BYSETPOS']) && /^[A-Z]{2}$/.test(r.BYDAY) && NTH[Number(r.BYSETPOS)]) {
        text = `${every('month')} on the ${NTH[Number(r.BYSETPOS)]} ${DAYS[r.BYDAY]}`;
      }
      break;
    case 'YEARLY':
      if (simple([])) text = every('year');
      else if (simple(['BYMONTH', 'BYMONTHDAY']) && /^\d+$/.test(r.BYMONTH) && /^\d+$/.test(r.BYMONTHDAY)) {
        text = `${every('year')} on ${MONTHS[Number(r.BYMONTH) - 1]} ${Number(r.BYMONTHDAY)}`;
      }
      break;
    default:
      break;
  }
  if (!text) return rule;
  if (r.UNTIL) {
    const m = /^(\d{4})(\d{2})(\d{2})/.exec(r.UNTIL);
    if (m) text += `, until ${Number(m[3])} ${MONTHS[Number(m[2]) - 1].slice(0, 3)} ${m[1]}`;
  }
  return text;
}

/**
 * The editor's presets for a task due on `parts` (zoned parts of its due date,
 * or of today): each {value, label, rule}.
 */
export function presets(parts) {
  const code = DAY_CODES[parts.weekday];
  const day = DAYS[code];
  return [
    { value: 'none', label: 'Does not repeat', rule: '' },
    { value: 'daily', label: 'Every day', rule: 'FREQ=DAILY' },
    { value: 'weekdays', label: 'Every weekday (Mon–Fri)', rule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR' },
    { value: 'weekly', label: `Every week on ${day}`, rule: `FREQ=WEEKLY;BYDAY=${code}` },
    { value: 'biweekly', label: `Every 2 weeks on ${day}`, rule: `FREQ=WEEKLY;INTERVAL=2;BYDAY=${code}` },
    { value: 'monthly', label: `Every month on the ${ordinal(parts.day)}`, rule: `FREQ=MONTHLY;BYMONTHDAY=${parts.day}` },
    { value: 'yearly', label: `Every year on ${MONTHS[parts.month - 1]} ${parts.day}`,
      rule: `FREQ=YEARLY;BYMONTH=${parts.month};BYMONTHDAY=${parts.day}` },
    { value: 'custom', label: 'Custom rule…', rule: null },
  ];
}

/** Canonical form for comparing rules: upper case, parts in a fixed order. */
export function normalizeRule(rule) {
  const r = parseRule(rule);
  if (!r) return (rule || '').trim().toUpperCase();
  return Object.keys(r).sort().map((k) => `${k}=${r[k]}`).join(';');
}
