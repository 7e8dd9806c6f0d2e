// The browser half of scripts/web-test (run that, not this): drives headless
// Chromium through the page with playwright-core. Every step has a deadline; any
// console error, page error or CSP violation fails the run.
//
// Environment (set by scripts/web-test): BASE_URL, OUT_DIR, CHROMIUM, PLAYWRIGHT_DIR,
// TMPDIR (where the fresh browser profile goes).

import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const { BASE_URL, OUT_DIR, CHROMIUM, PLAYWRIGHT_DIR } = process.env;
const require = createRequire(import.meta.url);
const { chromium } = require(PLAYWRIGHT_DIR);

const TZ = 'Europe/Berlin';
const email = `e2e-${Date.now().toString(36)}@example.com`;
const password = 'correct horse battery';
const problems = [];
/** Console messages a step expects once (Chromium logs every 4xx response it sees). */
const allowed = [];
const t0 = Date.now();
let stepStart = t0;

function step(name) {
  const now = Date.now();
  console.log(`  ${((now - t0) / 1000).toFixed(1).padStart(5)} s  ${name}`);
  stepStart = now;
}

function expect(cond, what) {
  if (!cond) throw new Error(`expected ${what}`);
}

/** Every page opened, for the failure screenshots. */
const pages = [];

/** Fails the run on anything the page complains about. */
function watch(page, label) {
  pages.push([label, page]);
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const i = allowed.findIndex((re) => re.test(m.text()));
    if (i >= 0) allowed.splice(i, 1);
    else problems.push(`${label} console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${label} page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Aborted list loads (a newer filter replaced them) are expected.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`${label} request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
}

async function api(method, urlPath, token, body, extra = {}) {
  const res = await fetch(BASE_URL + urlPath, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...extra },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${urlPath}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const shot = (page, name) => page.screenshot({ path: path.join(OUT_DIR, `${name}.png`), fullPage: false });

async function main() {
  mkdirSync(OUT_DIR, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: process.env.WEB_TEST_HEADED !== '1',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // No --user-data-dir here: Playwright refuses it in launch() and passes its own,
      // a fresh profile under os.tmpdir(), which scripts/web-test points at a
      // temporary directory it deletes afterwards.
    ].filter((a) => a !== '--headless' || process.env.WEB_TEST_HEADED !== '1'),
  });
  const contextOptions = { timezoneId: TZ, locale: 'en-US', viewport: { width: 1400, height: 900 }, colorScheme: 'light' };
  try {
    // ---- the headers the page is served with
    const res = await fetch(`${BASE_URL}/`);
    const csp = res.headers.get('content-security-policy') || '';
    expect(res.ok && csp.includes("script-src 'self'") && !csp.includes('unsafe-inline'), `a strict CSP, got ${csp}`);

    // ---- register
    const ctx = await browser.newContext(contextOptions);
    const page = await ctx.newPage();
    watch(page, 'tab 1');
    page.setDefaultTimeout(10_000);
    await page.goto(BASE_URL);
    await page.locator('#auth-view').waitFor();
    await shot(page, '01-sign-in');
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await page.locator('#auth-timezone').inputValue() === TZ, `the time zone preselected as ${TZ}`);
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.locator('#auth-submit').click();
    await page.locator('#app-view').waitFor();
    await page.locator('#live-indicator[data-state=live]').waitFor();
    step(`registered ${email}; live updates connected`);

    // ---- quick add through the assistant
    await page.getByLabel('Add a task or ask the assistant').fill('buy milk tomorrow at 5pm #groceries');
    await page.keyboard.press('Enter');
    await page.locator('#quick-reply', { hasText: 'buy milk' }).waitFor();
    const milk = page.locator('li.task', { has: page.locator('.task-title', { hasText: /^buy milk$/ }) });
    await milk.waitFor();
    const meta = await milk.locator('.task-meta').innerText();
    expect(/Tomorrow, 5:00\sPM/.test(meta), `"Tomorrow, 5:00 PM" (Berlin time) in the row, got ${JSON.stringify(meta)}`);
    expect(meta.includes('#groceries'), 'the #groceries tag');
    step('quick add: "buy milk tomorrow at 5pm #groceries" appeared');

    // A few more, for a realistic screenshot and to exercise the interpreter.
    for (const s of [
      'remind me to pay rent on the 1st of every month at 9am',
      'call mom on sunday at 6pm high priority',
      'renew passport next week #admin',
      'water the plants every monday #home low priority',
    ]) {
      const before = await page.locator('li.task').count();
      await page.getByLabel('Add a task or ask the assistant').fill(s);
      await page.keyboard.press('Enter');
      await page.waitForFunction((n) => document.querySelectorAll('li.task').length > n, before);
    }
    const rent = page.locator('li.task', { hasText: 'pay rent' });
    expect(/Every month on the 1st/.test(await rent.innerText()), 'the rent task to read "Every month on the 1st"');
    step('four more tasks added by sentence');
    await page.locator('#quick-input').fill('');
    await page.mouse.move(0, 0);
    await page.waitForTimeout(1900); // let the "arrived" highlight fade
    await shot(page, '02-tasks-desktop');

    // ---- complete: the task leaves the pending list
    await milk.getByRole('button', { name: 'Complete “buy milk”' }).click();
    await milk.waitFor({ state: 'detached' });
    await page.getByRole('tab', { name: 'Completed' }).click();
    await page.locator('li.task.done', { hasText: 'buy milk' }).waitFor();
    await page.getByRole('tab', { name: 'Pending' }).click();
    await page.locator('li.task', { hasText: 'pay rent' }).waitFor();
    expect(await page.locator('li.task', { hasText: 'buy milk' }).count() === 0, '"buy milk" gone from Pending');
    step('completed "buy milk": gone from Pending, listed under Completed');

    // ---- the filter query: an inline error at the offending place, a result,
    // the URL carrying it, saving it to the sidebar and opening it from there
    const query = page.getByLabel('Filter', { exact: true });
    allowed.push(/status of 400/);
    await query.fill('#admin | ');
    await query.press('Enter');
    const filterError = page.locator('#filter-query-error');
    await filterError.waitFor();
    expect(/expected a term after '\|' at 8/i.test(await filterError.innerText()), `the error to say what was expected where, got ${JSON.stringify(await filterError.innerText())}`);
    expect(await filterError.locator('mark.caret').count() === 1, 'a caret at the position where a term was expected');
    expect(await query.getAttribute('aria-invalid') === 'true', 'the box marked invalid');
    await shot(page, '03a-filter-error');
    await query.fill('#admin | #home');
    await query.press('Enter');
    await filterError.waitFor({ state: 'hidden' });
    await page.waitForFunction(() => document.querySelectorAll('li.task').length === 2);
    const shown = (await page.locator('li.task .task-title').allInnerTexts()).sort();
    expect(JSON.stringify(shown) === JSON.stringify(['renew passport', 'water the plants']), `the two tagged tasks, got ${shown}`);
    expect(decodeURIComponent(new URL(page.url()).hash) === '#/tasks?filter=#admin | #home', `the URL to carry the query, got ${page.url()}`);
    expect(await page.locator('#status-tabs').isHidden(), 'the status tabs hidden while the filter decides');
    await page.getByRole('button', { name: 'Save…' }).click();
    await page.getByLabel('Name', { exact: true }).fill('admin or home');
    await page.locator('#save-filter-submit').click();
    const savedLink = page.locator('#saved-list a', { hasText: 'admin or home' });
    await savedLink.waitFor();
    expect(await savedLink.getAttribute('aria-current') === 'true', 'the saved filter marked as the one shown');
    await shot(page, '03b-filter-saved');
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.locator('li.task', { hasText: 'pay rent' }).waitFor();
    expect(new URL(page.url()).hash === '#/tasks', `the URL without a query, got ${page.url()}`);
    await savedLink.click();
    await page.waitForFunction(() => document.querySelectorAll('li.task').length === 2);
    expect(await query.inputValue() === '#admin | #home', 'the saved query in the box');
    // A link with a query opens the page on it.
    await page.goto(`${BASE_URL}/#/tasks?filter=${encodeURIComponent('p1 | recurring')}`);
    await page.locator('#live-indicator[data-state=live]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('li.task').length === 3);
    expect(await query.inputValue() === 'p1 | recurring', 'the query from the URL in the box');
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.locator('li.task', { hasText: 'pay rent' }).waitFor();
    await page.locator('#status-tabs').waitFor();
    step('filter box: inline error at the position, results, URL, saved to the sidebar and reopened from it and from a link');

    // ---- a second browser context of the same user sees an API-created task live
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('todo.session')).token);
    const ctx2 = await browser.newContext({ ...contextOptions, viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true, hasTouch: true });
    const page2 = await ctx2.newPage();
    watch(page2, 'tab 2');
    page2.setDefaultTimeout(10_000);
    await page2.goto(BASE_URL);
    // The API's errors, in words: an e-mail already registered (409), a wrong password (401).
    await page2.getByRole('button', { name: 'Create account' }).click();
    await page2.getByLabel('E-mail').fill(email);
    await page2.getByLabel('Password', { exact: true }).fill(password);
    allowed.push(/status of 409 \(Conflict\)/);
    await page2.locator('#auth-submit').click();
    await page2.locator('#auth-email-error', { hasText: 'already exists' }).waitFor();
    await page2.getByRole('button', { name: 'Sign in' }).first().click();
    await page2.getByLabel('Password', { exact: true }).fill('not the password');
    allowed.push(/status of 401 \(Unauthorized\)/);
    await page2.locator('#auth-submit').click();
    await page2.locator('#auth-error', { hasText: 'Wrong e-mail or password.' }).waitFor();
    await page2.getByLabel('Password', { exact: true }).fill(password);
    await page2.locator('#auth-submit').click();
    await page2.locator('#live-indicator[data-state=live]').waitFor();
    await page2.locator('li.task', { hasText: 'pay rent' }).waitFor();
    step('second context (phone, dark): "already exists" (409) and "Wrong e-mail or password." (401) shown, then signed in');
    const created = await api('POST', '/api/v1/tasks', token, {
      title: 'book flights to Lisbon', priority: 'high', tags: ['travel'],
      due_at: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    });
    const sentAt = Date.now();
    await page2.locator('li.task', { hasText: 'book flights to Lisbon' }).waitFor({ timeout: 5000 });
    const liveMs = Date.now() - sentAt;
    await page.locator('li.task', { hasText: 'book flights to Lisbon' }).waitFor({ timeout: 5000 });
    step(`second context saw the API-created task live in ${liveMs} ms (no reload)`);
    await page2.waitForTimeout(300);
    await shot(page2, '03-tasks-mobile-dark');

    // ---- edit with optimistic concurrency: a change elsewhere while the editor is open
    const flights = page.locator('li.task', { hasText: 'book flights to Lisbon' });
    await flights.hover();
    await flights.getByRole('button', { name: 'Edit “book flights to Lisbon”' }).click();
    await page.locator('#task-dialog[open]').waitFor();
    await page.getByLabel('Title').fill('book flights to Lisbon and Porto');
    await api('PATCH', `/api/v1/tasks/${created.id}`, token, { description: 'window seat' }, { 'if-match': '"1"' });
    allowed.push(/status of 409 \(Conflict\)/);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#task-notice', { hasText: 'Someone changed this task' }).waitFor();
    await shot(page, '04-edit-conflict');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#task-dialog').waitFor({ state: 'hidden' });
    const saved = await api('GET', `/api/v1/tasks/${created.id}`, token);
    expect(saved.title === 'book flights to Lisbon and Porto' && saved.description === 'window seat' && saved.version === 3,
      `both edits kept at version 3, got ${JSON.stringify(saved)}`);
    expect(saved.due_at === created.due_at, `the untouched due time kept to the second, got ${saved.due_at} for ${created.due_at}`);
    await page2.locator('li.task', { hasText: 'Lisbon and Porto' }).waitFor({ timeout: 5000 });
    step('editor: 409 version_mismatch reloaded, the second save applied on top; tab 2 updated live');

    // ---- delete with confirmation, seen live in the other tab
    const passport = page.locator('li.task', { hasText: 'renew passport' });
    await passport.hover();
    await passport.getByRole('button', { name: 'Delete “renew passport”' }).click();
    await page.locator('#confirm-dialog[open]').waitFor();
    await page.locator('#confirm-ok').click();
    await passport.waitFor({ state: 'detached' });
    await page2.locator('li.task', { hasText: 'renew passport' }).waitFor({ state: 'detached', timeout: 5000 });
    step('deleted "renew passport" after confirming; gone in tab 2 too');

    // ---- the chat panel keeps the conversation
    await page.getByLabel('Message the assistant').fill('what is due this week?');
    await page.keyboard.press('Enter');
    await page.locator('#chat-log .msg-assistant', { hasText: /You have/ }).last().waitFor();
    step('chat panel: listing answered in the conversation');

    // ---- the conversation remembers: a follow-up, then undo, seen live in tab 2
    const say = async (text, reply) => {
      await page.getByLabel('Message the assistant').fill(text);
      await page.keyboard.press('Enter');
      await page.locator('#chat-log .msg-assistant', { hasText: reply }).last().waitFor();
    };
    await say('add call the plumber tomorrow at 9am', /Added 'call the plumber'/);
    const plumber = (p) => p.locator('li.task', { has: p.locator('.task-title', { hasText: /^call the plumber$/ }) });
    await plumber(page2).waitFor({ timeout: 5000 });
    await say('actually make it 10am', /Updated 'call the plumber'/);
    await page.locator('li.task', { hasText: 'call the plumber' }).filter({ hasText: /10:00\sAM/ }).waitFor();
    await say('undo', /Undid the change to 'call the plumber'/);
    await page.locator('li.task', { hasText: 'call the plumber' }).filter({ hasText: /9:00\sAM/ }).waitFor();
    await plumber(page2).filter({ hasText: /9:00\sAM/ }).waitFor({ timeout: 5000 });
    await say('delete it', /Deleted 'call the plumber'/);
    await plumber(page).waitFor({ state: 'detached' });
    await plumber(page2).waitFor({ state: 'detached', timeout: 5000 });
    await say('undo', /Undid deleting 'call the plumber'/);
    await plumber(page).waitFor();
    await plumber(page2).waitFor({ timeout: 5000 });
    await page.locator('#chat-log .action-chip', { hasText: 'Undone: call the plumber' }).last().waitFor();
    step('chat panel: "actually make it 10am" changed the task; "undo" reverted it; a deletion undone came back (tab 2 live)');

    // ---- a reminder fires: a toast in the page, then listed under Reminders
    const soon = Date.now() + 2000;
    await api('POST', '/api/v1/tasks', token, {
      title: 'stretch your legs', due_at: new Date(soon + 600_000).toISOString(), remind_at: new Date(soon).toISOString(),
    });
    await page.locator('.toast-reminder', { hasText: 'stretch your legs' }).waitFor({ timeout: 10_000 });
    const lateMs = Date.now() - soon;
    await page.getByRole('link', { name: 'Reminders' }).click();
    await page.locator('#notification-list li', { hasText: 'stretch your legs' }).waitFor();
    step(`reminder fired: toast shown ${lateMs} ms after its time, listed under Reminders`);
    await shot(page, '05-reminders');

    // ---- audit: entries and a verified chain
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.locator('#audit-list li').first().waitFor();
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page.locator('#audit-verdict[data-ok=true]', { hasText: 'Chain intact' }).waitFor();
    step(`audit: ${await page.locator('#audit-list li').count()} entries listed; verify says the chain is intact`);
    await shot(page, '06-audit');

    // ---- connections: a calendar feed and an API token, each shown once
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('button', { name: 'Create feed' }).click();
    await page.locator('#calendar-address').waitFor();
    const feedUrl = await page.locator('#calendar-url').inputValue();
    expect(/\/api\/v1\/calendar\/[A-Za-z0-9_-]{43}\.ics$/.test(feedUrl), `the feed address is shown (${feedUrl})`);
    const feed = await fetch(feedUrl);
    expect(feed.ok && (await feed.text()).includes('BEGIN:VCALENDAR'), 'the feed answers with a calendar');
    await page.locator('#calendar-rotate').waitFor();
    await page.locator('#token-name').fill('Claude Desktop');
    await page.locator('#token-scope').selectOption('read');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.locator('#token-list li', { hasText: 'Claude Desktop' }).waitFor();
    const minted = await page.locator('#token-value').inputValue();
    expect(minted.startsWith('todo_pat_'), 'the new token is shown');
    const denied = await fetch(`${BASE_URL}/api/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${minted}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'not allowed' }),
    });
    expect(denied.status === 403, `a read-only token cannot add a task (${denied.status})`);
    await shot(page, '06b-connections');
    await page.locator('#token-list li', { hasText: 'Claude Desktop' }).getByRole('button', { name: 'Revoke' }).click();
    await page.locator('#confirm-ok').click();
    await page.locator('#token-list li', { hasText: 'Claude Desktop' }).waitFor({ state: 'detached' });
    const gone = await fetch(`${BASE_URL}/api/v1/tasks`, { headers: { authorization: `Bearer ${minted}` } });
    expect(gone.status === 401, 'the revoked token is refused');
    step('connections: calendar feed made and served; a read-only token made, refused a change, revoked');
    await page.getByRole('link', { name: 'Tasks', exact: true }).click();
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.locator('li.task', { hasText: 'call mom' }).waitFor();
    await page.waitForTimeout(300);
    await shot(page, '07-tasks-desktop-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // ---- pagination: a reload keeps the session and shows 50, "Load more" the rest
    await Promise.all(Array.from({ length: 60 }, (_, i) =>
      api('POST', '/api/v1/tasks', token, { title: `bulk task ${String(i).padStart(2, '0')}` })));
    const total = (await api('GET', '/api/v1/tasks?limit=200', token)).items.length;
    await page.reload();
    await page.locator('#live-indicator[data-state=live]').waitFor();
    await page.locator('#load-more').waitFor();
    expect(await page.locator('li.task').count() === 50, 'a first page of 50 tasks');
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.locator('#load-more').waitFor({ state: 'hidden' });
    expect(await page.locator('li.task').count() === total, `all ${total} pending tasks after "Load more"`);
    step(`reload kept the session; 50 tasks, then "Load more" showed all ${total}`);

    // ---- sign out
    await page.locator('#usermenu summary').click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#auth-view').waitFor();
    expect(await page.evaluate(() => localStorage.getItem('todo.session')) === null, 'the token removed on sign-out');
    step('signed out');

    await ctx2.close();
    await ctx.close();
  } catch (e) {
    for (const [label, page] of pages) {
      await page.screenshot({ path: path.join(OUT_DIR, `failure-${label.replace(/\W+/g, '-')}.png`) }).catch(() => {});
    }
    throw e;
  } finally {
    await browser.close();
  }
  if (problems.length) throw new Error(`the page reported problems:\n  ${problems.join('\n  ')}`);
}

main().then(
  () => {
    console.log(`web-test: all steps passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Idle keep-alive sockets of fetch() would hold the process open a while longer.
    process.exit(0);
  },
  (e) => {
    console.error(`web-test: FAILED after ${((Date.now() - stepStart) / 1000).toFixed(1)} s in the step after the last one listed: ${e.message}`);
    if (problems.length) console.error(`  page problems:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  },
);
