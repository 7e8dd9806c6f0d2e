// DOM helpers. Everything is built with createElement and textContent: the page
// runs under Trusted Types with no policy, so assigning markup strings is
// refused by the browser and user text can never become HTML.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/**
 * h('li.task', {dataset: {id}, onclick}, child, 'text', [more]) — a tiny hyperscript.
 * Attributes starting with `on` become listeners; `class`, `dataset`, `hidden`,
 * and aria-/data- attributes are set as given; null/false children are skipped.
 */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.classList.add(...String(v).split(' ').filter(Boolean));
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && !k.includes('-')) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

const SVG = 'http://www.w3.org/2000/svg';

/** Line icons (24×24, stroked with currentColor), as path data. */
const ICONS = {
  calendar: ['M4 7a2 2 0 0 1 2-2h12a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2z', 'M4 10h16M9 3v4M15 3v4'],
  bell: ['M12 4a6 6 0 0 0-6 6v3.5L4.5 16h15L18 13.5V10a6 6 0 0 0-6-6z', 'M10 19a2 2 0 0 0 4 0'],
  repeat: ['M4 12a8 8 0 0 1 14-5.3M20 12a8 8 0 0 1-14 5.3', 'M18 3v4h-4M6 21v-4h4'],
  edit: ['M4 20h4L19 9l-4-4L4 16z', 'M13.5 6.5l4 4'],
  trash: ['M5 7h14M10 11v6M14 11v6', 'M7 7l1 12a2 2 0 0 0 2 2h4a2 2 0 0 0 2-2l1-12M9 7V4h6v3'],
  check: ['M5 12.5l4.5 4.5L19 7.5'],
  flag: ['M6 21V4M6 4h11l-2 4 2 4H6'],
  x: ['M6 6l12 12M18 6L6 18'],
  info: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M12 11v5M12 8h.01'],
  alert: ['M12 4l9 16H3z', 'M12 10v4M12 17h.01'],
  shield: ['M12 3l7 3v5c0 4.5-3 8.3-7 10-4-1.7-7-5.5-7-10V6z', 'M9 12l2 2 4-4'],
  shieldOff: ['M12 3l7 3v5c0 4.5-3 8.3-7 10-4-1.7-7-5.5-7-10V6z', 'M9.5 9.5l5 5M14.5 9.5l-5 5'],
  sparkle: ['M12 3v4M12 17v4M3 12h4M17 12h4M6 6l2.5 2.5M15.5 15.5L18 18M6 18l2.5-2.5M15.5 8.5L18 6'],
};

export function icon(name, cls = 'icon') {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', cls);
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(SVG, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}

/** Shows or clears the error under a form field, wiring aria-invalid/-describedby. */
export function fieldError(input, errorEl, message) {
  if (!errorEl) return;
  errorEl.textContent = message || '';
  errorEl.hidden = !message;
  if (input) {
    if (message) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', errorEl.id);
    } else {
      input.removeAttribute('aria-invalid');
      input.removeAttribute('aria-describedby');
    }
  }
}

export function showText(el, text) {
  el.textContent = text || '';
  el.hidden = !text;
}

// ---- toasts -----------------------------------------------------------------

const TOAST_MS = { info: 5000, success: 4000, error: 9000, reminder: 15000 };

/**
 * A transient message in the corner. Errors are announced assertively
 * (role=alert); others through the polite live region that holds the toasts.
 * Hovering or focusing a toast keeps it until the pointer or focus leaves.
 */
export function toast(message, { kind = 'info', title = null, action = null } = {}) {
  const region = document.getElementById('toasts');
  const iconName = { error: 'alert', success: 'check', reminder: 'bell' }[kind] || 'info';
  const close = h('button.icon-button.toast-close', { type: 'button', 'aria-label': 'Dismiss' }, icon('x'));
  const el = h(`div.toast.toast-${kind}`, kind === 'error' ? { role: 'alert' } : null,
    icon(iconName, 'icon toast-icon'),
    h('div.toast-body',
      title && h('p.toast-title', title),
      h('p.toast-text', message),
      action && h('button.link', { type: 'button', onclick: () => { action.run(); dismiss(); } }, action.label)),
    close);
  let timer = null;
  const dismiss = () => {
    clearTimeout(timer);
    el.classList.add('leaving');
    // Without motion there is no transitionend; remove at once.
    const reduced = matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (reduced) el.remove();
    else setTimeout(() => el.remove(), 200);
  };
  const arm = () => { clearTimeout(timer); timer = setTimeout(dismiss, TOAST_MS[kind] || 5000); };
  close.addEventListener('click', dismiss);
  el.addEventListener('mouseenter', () => clearTimeout(timer));
  el.addEventListener('mouseleave', arm);
  el.addEventListener('focusin', () => clearTimeout(timer));
  el.addEventListener('focusout', arm);
  region.append(el);
  // Keep the stack short on small screens.
  while (region.children.length > 4) region.firstElementChild.remove();
  arm();
  return dismiss;
}

// ---- dialogs ----------------------------------------------------------------

/** Asks a yes/no question in the confirm dialog; resolves true for the OK button. */
export function confirmDialog({ title, text, ok = 'Delete' }) {
  const dlg = document.getElementById('confirm-dialog');
  $('#confirm-title', dlg).textContent = title;
  $('#confirm-text', dlg).textContent = text;
  $('#confirm-ok', dlg).textContent = ok;
  dlg.returnValue = '';
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.showModal();
  });
}

/** Debounces `fn` by `ms`. */
export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
