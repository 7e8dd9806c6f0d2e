// The assistant: the quick-add box above the list and the chat panel share one
// conversation (`POST /api/v1/chat`), kept for this tab's session so "complete
// task 2" refers to the assistant's last listing.

import * as api from '../api.js';
import { $, h, icon, showText, toast } from '../dom.js';
import { formatTime } from '../format.js';
import { conversation, session } from '../state.js';

const EXAMPLES = [
  'What is due this week?',
  'Remind me to pay rent on the 1st of every month at 9am',
  'Show my high priority tasks',
  'Help',
];

const TOOL_LABEL = {
  add_task: 'Added', complete_task: 'Completed', delete_task: 'Deleted', update_task: 'Updated',
  list_tasks: 'Listed', help: 'Help', undo: 'Undone', skip_occurrence: 'Skipped',
  complete_tasks: 'To complete', delete_tasks: 'To delete',
};

let applyActions = () => {};

export function initChat({ onActions }) {
  applyActions = onActions;
  const quick = $('#quick-add');
  const quickInput = $('#quick-input');
  quick.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = quickInput.value.trim();
    if (!text) { quickInput.focus(); return; }
    quickInput.value = '';
    const reply = await send(text, 'quick');
    // Failed: give the sentence back for another try, unless a new one was typed.
    if (reply === null && !quickInput.value) quickInput.value = text;
  });
  // The example does not fit a phone's width; a shorter prompt does.
  const narrow = matchMedia('(max-width: 720px)');
  const placeholder = () => {
    quickInput.placeholder = narrow.matches ? 'Add a task in plain words' : 'Add a task in plain words: “buy milk tomorrow at 5pm #groceries”';
  };
  narrow.addEventListener('change', placeholder);
  placeholder();
  quickInput.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') showText($('#quick-reply'), '');
  });

  const form = $('#chat-form');
  const input = $('#chat-input');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    autosize(input);
    const reply = await send(text, 'panel');
    if (reply === null && !input.value) { input.value = text; autosize(input); }
  });
  // Enter sends, Shift+Enter starts a new line, as in every chat.
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener('input', () => autosize(input));
  $('#chat-new').addEventListener('click', () => {
    conversation.id = null;
    renderWelcome();
    showText($('#quick-reply'), '');
    input.focus();
  });
}

function autosize(t) {
  t.style.height = 'auto';
  t.style.height = `${Math.min(t.scrollHeight, 160)}px`;
}

/** Loads the conversation of this tab's session, or shows the welcome. */
export async function loadConversation() {
  const id = conversation.id;
  if (!id) { renderWelcome(); return; }
  const log = $('#chat-log');
  log.replaceChildren();
  try {
    let cursor = null;
    const items = [];
    do {
      const page = await api.conversationMessages(id, cursor);
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    if (items.length === 0) renderWelcome();
    for (const m of items) log.append(messageEl(m.role, m.content, m.actions || [], m.created_at));
    scrollDown();
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 404) {
      // The server no longer knows it (another database, say): start afresh.
      conversation.id = null;
      renderWelcome();
    } else if (e instanceof api.ApiError && e.status !== 401) {
      toast(e.friendly, { kind: 'error', title: 'Could not load the conversation' });
    }
  }
}

export function clearConversation() {
  $('#chat-log').replaceChildren();
  showText($('#quick-reply'), '');
}

function renderWelcome() {
  $('#chat-log').replaceChildren(h('li.chat-welcome',
    h('p.chat-welcome-title', icon('sparkle'), 'Say it in plain words'),
    h('p', 'Add, find, complete, reschedule or delete tasks with a sentence.'),
    h('div.chat-examples', EXAMPLES.map((ex) => h('button.chip-button', {
      type: 'button',
      onclick: () => { const i = $('#chat-input'); i.value = ex; autosize(i); i.focus(); },
    }, ex)))));
}

/**
 * Messages go out one at a time, in order: the first one creates the
 * conversation the next ones continue, and "complete task 2" must follow the
 * listing it refers to. A message sent while another is on its way waits its
 * turn instead of being dropped.
 */
let queue = Promise.resolve();
/** Messages waiting for an answer, by the box they were typed in. */
const pendingFrom = { quick: 0, panel: 0 };

/** Sends `text`; resolves to the reply, or null when it failed. */
function send(text, from) {
  const log = $('#chat-log');
  log.querySelector('.chat-welcome')?.remove();
  // The quick-add reply region announces the answer; the log stays quiet then,
  // or screen readers would read it twice.
  log.setAttribute('aria-live', from === 'quick' ? 'off' : 'polite');
  const mine = messageEl('user', text, [], new Date().toISOString());
  log.append(mine);
  scrollDown();
  setBusy(from, true);
  const turn = queue.then(() => exchange(text, from, mine));
  queue = turn.catch(() => null);
  return turn.finally(() => setBusy(from, false));
}

function setBusy(from, on) {
  pendingFrom[from] += on ? 1 : -1;
  const submit = from === 'quick' ? $('#quick-submit') : $('#chat-form button[type=submit]');
  // A spinner, but the button stays enabled: Enter queues the next message.
  submit.classList.toggle('busy', pendingFrom[from] > 0);
}

/** One message and its answer; the answer goes right under `asked`, even if more were queued since. */
async function exchange(text, from, asked) {
  const quickReply = $('#quick-reply');
  const typing = h('li.msg.msg-assistant.typing', { 'aria-label': 'The assistant is typing' },
    h('span.dot'), h('span.dot'), h('span.dot'));
  asked.after(typing);
  scrollDown();
  if (from === 'quick') {
    quickReply.hidden = false;
    quickReply.classList.add('thinking');
    quickReply.replaceChildren(h('span.visually-hidden', 'Working…'));
  }
  try {
    const res = await api.chat(text, conversation.id);
    conversation.id = res.conversation_id;
    typing.replaceWith(messageEl('assistant', res.reply, res.actions, new Date().toISOString()));
    scrollDown();
    if (from === 'quick') {
      quickReply.classList.remove('thinking', 'error');
      quickReply.replaceChildren(icon('sparkle', 'icon reply-icon'), h('p.reply-text', res.reply));
    }
    applyActions(res.actions);
    return res.reply;
  } catch (e) {
    if (!(e instanceof api.ApiError)) { typing.remove(); throw e; }
    if (e.status === 404 && conversation.id) {
      conversation.id = null; // a stale conversation: the next message starts a new one
    }
    const message = e.status === 401 ? 'Your session ended; sign in again.' : e.friendly;
    typing.replaceWith(h('li.msg.msg-error', { role: 'alert' }, message));
    if (from === 'quick') {
      quickReply.classList.remove('thinking');
      quickReply.classList.add('error');
      quickReply.replaceChildren(icon('alert', 'icon reply-icon'), h('p.reply-text', message));
    }
    return null;
  }
}

function messageEl(role, content, actions, at) {
  const when = at ? formatTime(new Date(at), session.timezone) : '';
  return h(`li.msg.msg-${role}`,
    h('span.visually-hidden', role === 'user' ? 'You said: ' : 'Assistant: '),
    h('p.msg-text', content),
    actions && actions.length > 0 && h('div.msg-actions', actions.map(actionChip)),
    when && h('span.msg-time', { 'aria-hidden': 'true' }, when));
}

function actionChip(a) {
  const r = a.result || {};
  if (r.error) return h('span.action-chip.failed', icon('alert'), `${a.tool}: ${r.error}`);
  let label = TOOL_LABEL[a.tool] || a.tool;
  if (Array.isArray(r.items)) label += ` ${r.items.length}`;
  else if (r.title) label += `: ${r.title}`;
  return h('span.action-chip', icon('check'), label);
}

function scrollDown() {
  const log = $('#chat-log');
  log.scrollTop = log.scrollHeight;
}
