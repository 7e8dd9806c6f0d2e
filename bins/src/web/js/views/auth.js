// Sign in / create account.

import * as api from '../api.js';
import { $, fieldError, h, showText } from '../dom.js';
import { browserTimeZone, timeZones } from '../format.js';

let mode = 'login';

/** Wires the form; `onSignedIn(token, user)` runs after a successful sign-in. */
export function initAuth(onSignedIn) {
  const form = $('#auth-form');
  const email = $('#auth-email');
  const password = $('#auth-password');
  const tz = $('#auth-timezone');
  const submit = $('#auth-submit');

  // The browser's zone is preselected; the list is only built once.
  const here = browserTimeZone();
  tz.replaceChildren(...timeZones(here).map((z) => h('option', { value: z, selected: z === here }, z.replace(/_/g, ' '))));

  $('#auth-mode-login').addEventListener('click', () => setMode('login'));
  $('#auth-mode-register').addEventListener('click', () => setMode('register'));

  const toggle = $('#auth-password-toggle');
  toggle.addEventListener('click', () => {
    const show = password.type === 'password';
    password.type = show ? 'text' : 'password';
    toggle.textContent = show ? 'Hide' : 'Show';
    toggle.setAttribute('aria-pressed', String(show));
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    // Checked here first for a faster, clearer message; the server checks again.
    if (!email.value.trim()) return fail('email', 'Enter your e-mail address.');
    if (!password.value) return fail('password', 'Enter your password.');
    if (mode === 'register' && password.value.length < 8) {
      return fail('password', 'Use at least 8 characters for your password.');
    }
    submit.disabled = true;
    submit.classList.add('busy');
    try {
      const res = mode === 'register'
        ? await api.register(email.value.trim(), password.value, tz.value)
        : await api.login(email.value.trim(), password.value);
      password.value = '';
      onSignedIn(res.token, res.user);
    } catch (err) {
      if (!(err instanceof api.ApiError)) throw err;
      if (err.status === 409) {
        fail('email', 'An account with this e-mail already exists. Sign in instead?');
      } else if (err.status === 401) {
        showText($('#auth-error'), 'Wrong e-mail or password.');
      } else if (err.field && ['email', 'password', 'timezone'].includes(err.field)) {
        fail(err.field, err.friendly);
      } else {
        showText($('#auth-error'), err.friendly);
      }
    } finally {
      submit.disabled = false;
      submit.classList.remove('busy');
    }
  });
}

function fail(field, message) {
  const input = $(`#auth-${field}`);
  fieldError(input, $(`#auth-${field}-error`), message);
  input?.focus();
}

function clearErrors() {
  for (const f of ['email', 'password', 'timezone']) fieldError($(`#auth-${f}`), $(`#auth-${f}-error`), '');
  showText($('#auth-error'), '');
}

function setMode(m) {
  mode = m;
  const register = m === 'register';
  $('#auth-mode-login').setAttribute('aria-pressed', String(!register));
  $('#auth-mode-register').setAttribute('aria-pressed', String(register));
  $('#auth-timezone-field').hidden = !register;
  $('#auth-password-hint').hidden = !register;
  $('#auth-password').autocomplete = register ? 'new-password' : 'current-password';
  $('#auth-submit').textContent = register ? 'Create account' : 'Sign in';
  clearErrors();
}

/** Shows the signed-out screen, with an optional reason (e.g. an expired session). */
export function showAuth(message = '') {
  $('#app-view').hidden = true;
  $('#auth-view').hidden = false;
  clearErrors();
  if (message) showText($('#auth-error'), message);
  $('#auth-email').focus();
}
