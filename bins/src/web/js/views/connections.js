// Connections: the calendar feed (create, new address, turn off; the address is
// shown once) and API tokens for AI assistants and scripts (create with a scope,
// revoke; the secret is shown once). Both are managed with the session only.

import * as api from '../api.js';
import { $, confirmDialog, h, showText, toast } from '../dom.js';
import { relativeTime } from '../format.js';

export function initConnections() {
  $('#calendar-create').addEventListener('click', () => makeFeed(api.createCalendar));
  $('#calendar-rotate').addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Give the feed a new address?',
      text: 'Calendars subscribed to the current address stop updating; subscribe them to the new one.',
      ok: 'New address',
    });
    if (ok) makeFeed(api.rotateCalendar);
  });
  $('#calendar-revoke').addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Turn the calendar feed off?',
      text: 'Its address stops working at once; calendars subscribed to it stop updating.',
      ok: 'Turn off',
    });
    if (!ok) return;
    await run('#calendar-error', async () => {
      await api.revokeCalendar();
      $('#calendar-address').hidden = true;
      showFeed(null);
      toast('Calendar feed turned off.');
    });
  });
  $('#calendar-copy').addEventListener('click', () => copy('#calendar-url'));
  $('#token-copy').addEventListener('click', () => copy('#token-value'));
  $('#token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    mint();
  });
}

export async function loadConnections() {
  await Promise.all([loadFeed(), loadTokens()]);
}

export function resetConnections() {
  $('#token-list').replaceChildren();
  $('#calendar-address').hidden = true;
  $('#token-secret').hidden = true;
  $('#calendar-url').value = '';
  $('#token-value').value = '';
}

/** Runs `fn`, showing its failure in `errorSel`. */
async function run(errorSel, fn) {
  showText($(errorSel), '');
  try {
    return await fn();
  } catch (e) {
    if (e instanceof api.ApiError && e.status !== 401) showText($(errorSel), e.friendly);
    else if (!(e instanceof api.ApiError)) throw e;
    return null;
  }
}

async function copy(sel) {
  const input = $(sel);
  try {
    await navigator.clipboard.writeText(input.value);
    toast('Copied.');
  } catch {
    input.select();
  }
}

// ---- calendar feed ------------------------------------------------------------

async function loadFeed() {
  await run('#calendar-error', async () => {
    const state = await api.calendarStatus();
    showFeed(state.active ? state : null);
  });
}

/** The buttons and sentence for a feed that exists (`status`) or not (`null`). */
function showFeed(status) {
  $('#calendar-create').hidden = Boolean(status);
  $('#calendar-rotate').hidden = !status;
  $('#calendar-revoke').hidden = !status;
  $('#calendar-status').textContent = status
    ? `Your feed is on (its address was made ${relativeTime(status.created_at)}). Lost the address? Give it a new one.`
    : 'Subscribe to your dated tasks from Google Calendar, Apple Calendar, Outlook or Thunderbird.';
}

async function makeFeed(call) {
  await run('#calendar-error', async () => {
    const made = await call();
    $('#calendar-url').value = made.url;
    $('#calendar-webcal').href = made.webcal_url;
    $('#calendar-address').hidden = false;
    showFeed({ created_at: made.created_at });
    $('#calendar-url').select();
  });
}

// ---- API tokens -----------------------------------------------------------------

async function loadTokens() {
  await run('#token-error', async () => {
    const { items } = await api.listTokens();
    renderTokens(items);
  });
}

function renderTokens(items) {
  $('#token-empty').hidden = items.length > 0;
  $('#token-list').replaceChildren(...items.map((t) => h('li.plain-item', { dataset: { id: t.id } },
    h('div.item-main',
      h('p.item-title', t.name),
      h('p.item-sub', [
        t.scopes.includes('write') ? 'Read and change' : 'Read only',
        ` · created ${relativeTime(t.created_at)}`,
        t.last_used_at ? ` · last used ${relativeTime(t.last_used_at)}` : ' · never used',
        t.expires_at ? ` · expires ${new Date(t.expires_at).toLocaleDateString()}` : '',
      ].join(''))),
    h('button.ghost.small', { type: 'button', onclick: () => revoke(t) }, 'Revoke'))));
}

async function mint() {
  const name = $('#token-name').value.trim();
  showText($('#token-name-error'), name ? '' : 'Give the token a name, so you know what to revoke later.');
  if (!name) return;
  const scopes = $('#token-scope').value.split(' ');
  await run('#token-error', async () => {
    const minted = await api.mintToken(name, scopes);
    $('#token-value').value = minted.token;
    $('#token-secret').hidden = false;
    $('#token-name').value = '';
    $('#token-value').select();
    await loadTokens();
  });
}

async function revoke(t) {
  const ok = await confirmDialog({
    title: `Revoke “${t.name}”?`,
    text: 'Whatever uses it loses access at once.',
    ok: 'Revoke',
  });
  if (!ok) return;
  await run('#token-error', async () => {
    await api.revokeToken(t.id);
    await loadTokens();
    toast('Token revoked.');
  });
}

