// One person's whole journey through the account pages, in Debian's Chromium (driven by
// playwright-core): registration with an email address verified by the code from a real SMTP
// sink, sign-out and sign-in, a password change that checks the current password, a second
// address added and removed, another session seen and ended (Synapse then refuses its token),
// a cross-signing reset approved, an access token made for a bot (copied, used on Synapse,
// revoked), and the deactivation, after which signing in is refused.
// Removing an address, approving the reset and deactivating each ask for the password again
// once the sign-in is more than 5 minutes old: the suite ages the sign-in in the database
// (DATABASE_FILE, the server's SQLite file) rather than wait.
//
// This file owns the SMTP sink: the server's `email:` section (interop/run.sh) points at
// SMTP_PORT, and no other test file listens there. With SCREENSHOTS_DIR set, the main pages are
// saved there as PNGs (docs/screenshots/ holds the committed ones); otherwise nothing is saved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ageSignIns as ageSignInsIn, journey } from './browser.mjs';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as client from 'openid-client';
import { chromium } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

const base = new URL(process.env.BASE_URL);
const synapse = new URL(process.env.SYNAPSE_URL);
const smtpPort = Number(process.env.SMTP_PORT);
const databaseFile = process.env.DATABASE_FILE;
const screenshots = process.env.SCREENSHOTS_DIR ? resolve(process.env.SCREENSHOTS_DIR) : null;
const redirectUri = 'https://account.interop.example.org/callback';
const viewport = { width: 1000, height: 800 };
const home = (url) => url.href === base.href;

const username = 'erin';
const firstPassword = 'erin has a long and quiet passphrase 7';
const secondPassword = 'and erin changed it to another one 8';
const email = 'erin@example.org';
const workEmail = 'erin.work@example.org';

function ageSignIns(minutes) {
  ageSignInsIn(databaseFile, minutes);
}

// The SMTP sink: every message it receives, parsed, in order of arrival.
const mails = [];
let sink;
let browser;

before(async () => {
  assert.ok(smtpPort > 0, 'SMTP_PORT is not set (run this through interop/run.sh)');
  assert.ok(databaseFile, 'DATABASE_FILE is not set (run this through interop/run.sh)');
  sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), mail });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise((ready, failed) => {
    sink.once('error', failed);
    sink.listen(smtpPort, '127.0.0.1', ready);
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  if (screenshots) mkdirSync(screenshots, { recursive: true });
});

after(async () => {
  await browser?.close();
  await new Promise((done) => (sink ? sink.close(done) : done()));
});

/** Waits for the next message to `to` after the `seen` first ones, and returns its code. */
async function codeMailedTo(to, seen) {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const message = mails.slice(seen).find((m) => m.to.includes(to));
    if (message) {
      const { mail } = message;
      assert.equal(mail.to.value[0].address, to);
      assert.match(mail.from.text, /noreply@localhost/);
      const code = mail.text.match(/\b(\d{6})\b/)?.[1];
      assert.ok(code, `no 6-digit code in:\n${mail.text}`);
      assert.equal(mail.subject, `Your verification code is ${code}`);
      assert.match(mail.html, new RegExp(code));
      return code;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no mail reached ${to} within 30 seconds`);
}

/** Saves a PNG of the page when SCREENSHOTS_DIR is set; `dark` switches to the dark theme. */
async function shot(page, name, { dark = false } = {}) {
  if (!screenshots) return;
  if (dark) await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
  if (dark) await page.emulateMedia({ colorScheme: 'light' });
}

/** Waits until an element matching `selector` is on the page (after a form's answer loads). */
async function shown(page, selector) {
  await page.locator(selector).first().waitFor();
}

async function heading(page) {
  return (await page.locator('h1').first().textContent()).trim();
}

async function whoami(token) {
  const response = await fetch(new URL('_matrix/client/v3/account/whoami', synapse), {
    headers: { authorization: `Bearer ${token}` },
  });
  return response.status;
}

async function signIn(page, password) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Another session of the same user, as a Matrix client gets one: the code flow in a second
 * browser context (sign-in, consent), then tokens. Returns the access token and that context.
 */
async function anotherSession(deviceId) {
  const config = await client.dynamicClientRegistration(
    base,
    {
      client_name: 'Erin’s other device',
      client_uri: 'https://account.interop.example.org/',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    client.None(),
    { execute: [client.allowInsecureRequests] },
  );
  const verifier = client.randomPKCECodeVerifier();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: `openid urn:matrix:client:api:* urn:matrix:client:device:${deviceId}`,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  let reached;
  const callback = new Promise((resolve) => {
    reached = resolve;
  });
  await page.route(`${redirectUri}**`, async (route) => {
    reached(new URL(route.request().url()));
    await route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the client' });
  });
  await page.goto(authorizationUrl.href);
  await signIn(page, secondPassword);
  await page.waitForURL(/\/consent\//);
  assert.match(await page.textContent('body'), /Erin’s other device/);
  await shot(page, 'consent');
  await page.getByRole('button', { name: 'Allow' }).click();
  const tokens = await client.authorizationCodeGrant(config, await callback, {
    pkceCodeVerifier: verifier,
  });
  return { token: tokens.access_token, context, page };
}

test('an account, from registration to deactivation, in a real browser', async (t) => {
  // Each step needs the ones before it: after a failure, the rest are skipped.
  const step = journey(t);
  const context = await browser.newContext({ viewport, colorScheme: 'light' });
  const page = await context.newPage();

  await step('register with an email address, verified by the code mailed to it', async () => {
    await page.goto(new URL('login', base).href);
    await shot(page, 'login');
    await shot(page, 'login-dark', { dark: true });
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL(/\/register\/password/);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password', { exact: true }).fill(firstPassword);
    await page.getByLabel('Confirm password').fill(firstPassword);
    await page.getByLabel(/display name/i).fill('Erin');
    await page.getByLabel(/email address/i).fill(email);
    await shot(page, 'register');
    const seen = mails.length;
    await page.getByRole('button', { name: 'Create account' }).click();

    // Nothing exists until the code is given: the browser is asked for it, and the account
    // cannot sign in yet.
    await page.waitForURL(/\/register\/steps\/[^/]+\/verify-email/);
    assert.equal(await heading(page), 'Verify your email address');
    assert.match(await page.textContent('main'), new RegExp(email.replace('.', '\\.')));
    const code = await codeMailedTo(email, seen);
    await shot(page, 'verify-email');
    const early = await browser.newContext();
    const earlyPage = await early.newPage();
    await earlyPage.goto(new URL('login', base).href);
    await signIn(earlyPage, firstPassword);
    await shown(earlyPage, 'text=Wrong username or password');
    assert.match(await earlyPage.textContent('main'), /Wrong username or password/);
    await early.close();

    // A wrong code is refused, and the page asks again.
    const wrong = code === '000000' ? '111111' : '000000';
    await page.getByLabel('Code').fill(wrong);
    await page.getByRole('button', { name: 'Continue' }).click();
    await shown(page, '#code-error');
    assert.match(page.url(), /\/verify-email/);

    // The right code makes the account and signs the browser in.
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(home);
    assert.match(await page.textContent('main'), /You are signed in as erin/);
    await shot(page, 'home');
    await page.getByRole('link', { name: 'Manage your account' }).click();
    await page.waitForURL(/\/account\/$/);
    assert.equal(await heading(page), 'Your account');
    // The homeserver gets the user (and the display name given at registration) from the job
    // queue, a moment after the account is made.
    const displayName = page.locator('.facts > div', { hasText: 'Display name' }).locator('dd');
    for (let attempt = 0; attempt < 50; attempt += 1) {
      if ((await displayName.textContent()).trim() === 'Erin') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await page.reload();
    }
    assert.equal((await displayName.textContent()).trim(), 'Erin');
    const main = await page.textContent('main');
    assert.match(main, /@erin:localhost/);
    assert.match(main, /erin@example\.org/);
    await shot(page, 'account');
    await shot(page, 'account-dark', { dark: true });
  });

  await step('sign out, then back in', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    // Signing out lands on the sign-in page, and the account pages are closed until then.
    await page.waitForURL(/\/login$/);
    assert.equal(await heading(page), 'Sign in to Matrix');
    await page.goto(new URL('account/', base).href);
    assert.match(page.url(), /\/login/);

    // The wrong password is refused; the right one goes back to the account.
    await signIn(page, 'not the password');
    await shown(page, 'text=Wrong username or password');
    await signIn(page, firstPassword);
    await page.waitForURL((url) => !url.pathname.endsWith('/login'));
    await page.goto(new URL('account/', base).href);
    assert.equal(await heading(page), 'Your account');
  });

  await step('change the password: the current one is checked', async () => {
    await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Password' }).click();
    await page.waitForURL(/\/account\/password/);
    assert.equal(await heading(page), 'Change your password');
    await shot(page, 'password');

    // A wrong current password refuses the change, recent sign-in or not.
    await page.getByLabel(/current password/i).fill('not the password');
    await page.getByLabel('New password', { exact: true }).fill(secondPassword);
    await page.getByLabel('Confirm the new password').fill(secondPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await shown(page, '#current-password-error');
    assert.equal(await page.locator('[role=status]').count(), 0);

    await page.getByLabel(/current password/i).fill(firstPassword);
    await page.getByLabel('New password', { exact: true }).fill(secondPassword);
    await page.getByLabel('Confirm the new password').fill(secondPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(/\/account\/password\?/);
    assert.equal(await page.locator('#current-password-error').count(), 0);
    assert.equal(await page.locator('[role=status]').count(), 1);
  });

  await step('add a second email address with the mailed code, then remove it', async () => {
    await page.goto(new URL('account/', base).href);
    const seen = mails.length;
    await page.locator('#new-email').fill(workEmail);
    await page.getByRole('button', { name: 'Send a code' }).click();
    await page.waitForURL(/\/account\/emails\/verify\//);
    const code = await codeMailedTo(workEmail, seen);
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/account\/\?done=email_added/);
    assert.match(await page.textContent('[role=status]'), /has been added/);
    const addresses = page.locator('ul.plain-list > li');
    assert.equal(await addresses.count(), 2);
    await shot(page, 'emails');

    // Signed in a moment ago: no password is asked.
    assert.equal(await addresses.locator('input[type=password]').count(), 0);

    // Ten minutes later, removing the address needs the password again.
    ageSignIns(10);
    await page.reload();
    const item = page.locator('ul.plain-list > li').filter({ hasText: workEmail });
    const password = item.locator('input[type=password]');
    assert.equal(await password.count(), 1, 'the removal asks for the password');
    await password.fill('not the password');
    await item.getByRole('button', { name: 'Remove' }).click();
    await shown(page, 'text=Wrong password');
    assert.match(await page.textContent('main'), /erin\.work@example\.org/);
    const again = page.locator('ul.plain-list > li').filter({ hasText: workEmail });
    await again.locator('input[type=password]').fill(secondPassword);
    await again.getByRole('button', { name: 'Remove' }).click();
    await page.waitForURL(/\/account\/\?done=email_removed/);
    assert.match(await page.textContent('[role=status]'), /has been removed/);
    const main = await page.textContent('main');
    assert.doesNotMatch(main, /erin\.work@example\.org/);
    assert.match(main, /erin@example\.org/);
  });

  await step('see another session and end it; Synapse refuses its token', async () => {
    const other = await anotherSession('ERINPHONE1');
    assert.equal(await whoami(other.token), 200);

    await page.goto(new URL('account/sessions', base).href);
    assert.equal(await heading(page), 'Where you are signed in');
    const application = page.locator('li.session', { hasText: 'ERINPHONE1' });
    assert.equal(await application.count(), 1);
    // Both browsers are listed, this one marked as such.
    assert.equal(await page.locator('li.session', { hasText: 'Web browser' }).count(), 2);
    assert.equal(await page.locator('li.session-current').count(), 1);
    await shot(page, 'sessions');

    await application.getByRole('button', { name: 'End this session' }).click();
    await page.waitForURL(/\/account\/sessions\?done=ended/);
    assert.match(await page.textContent('[role=status]'), /The session has ended/);
    assert.equal(await page.locator('li.session', { hasText: 'ERINPHONE1' }).count(), 0);

    let status = 200;
    for (let attempt = 0; attempt < 100 && status !== 401; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = await whoami(other.token);
    }
    assert.equal(status, 401, 'Synapse still accepts the token of the ended session');

    // The other browser's own session ends too, from here: it is sent back to sign in.
    const otherBrowser = page.locator('li.session:not(.session-current)', {
      has: page.getByRole('button', { name: 'End this session' }),
    });
    assert.equal(await otherBrowser.count(), 1);
    await otherBrowser.getByRole('button', { name: 'End this session' }).click();
    await page.waitForURL(/\/account\/sessions\?done=ended/);
    assert.equal(await page.locator('li.session').count(), 1);
    await other.page.goto(new URL('account/', base).href);
    assert.match(other.page.url(), /\/login/);
    await other.context.close();
  });

  await step('approve a cross-signing reset, for 10 minutes', async () => {
    await page.getByRole('link', { name: 'Encryption keys' }).click();
    await page.waitForURL(/\/account\/cross-signing-reset/);
    assert.equal(await heading(page), 'Reset your encryption keys');
    await shot(page, 'cross-signing-reset');

    // An old sign-in: the approval without the password is refused, with the reason.
    ageSignIns(10);
    await page.reload();
    const password = page.locator('#password');
    assert.equal(await password.count(), 1, 'the approval asks for the password');
    assert.equal(await password.getAttribute('required'), '', 'the browser asks for it first');
    // The server refuses it on its own too, should a browser send the form without it.
    await password.evaluate((input) => input.removeAttribute('required'));
    await page.getByRole('button', { name: 'Allow the reset' }).click();
    await shown(page, 'text=your last sign-in was more than 5 minutes ago');
    assert.equal(await heading(page), 'Reset your encryption keys');

    await page.locator('#password').fill(secondPassword);
    await page.getByRole('button', { name: 'Allow the reset' }).click();
    await shown(page, 'h1:text-is("You may now reset your keys")');
    assert.match(await page.textContent('[role=status]'), /next 10 minutes/);
  });

  await step('make an access token for a bot, copy it, use it on Synapse, revoke it', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base.origin });
    await page.getByRole('link', { name: 'Access tokens' }).click();
    await page.waitForURL(/\/account\/tokens/);
    assert.equal(await heading(page), 'Access tokens');
    await page.getByLabel('Name', { exact: true }).fill('Erin’s weather bot');
    await page.getByLabel(/Device ID/).fill('ERINWEATHERBOT');
    await page.getByLabel('Valid for').selectOption('30');
    // An old sign-in: the password is asked again.
    ageSignIns(10);
    await page.reload();
    await page.getByLabel('Name', { exact: true }).fill('Erin’s weather bot');
    await page.getByLabel(/Device ID/).fill('ERINWEATHERBOT');
    await page.getByLabel('Valid for').selectOption('30');
    await page.locator('#password').fill(secondPassword);
    await page.getByRole('button', { name: 'Create token' }).click();
    await shown(page, '#new-token');
    const token = await page.locator('#new-token').inputValue();
    assert.match(token, /^mpt_/);
    await shot(page, 'account-tokens');

    // The copy button, shown by the one script of the pages, puts it on the clipboard.
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.waitForFunction(() => document.querySelector('[data-copy]').dataset.copied === 'true');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);

    // Synapse accepts it, as erin on the bot's device.
    const answer = await fetch(new URL('_matrix/client/v3/account/whoami', synapse), {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(answer.status, 200);
    const me = await answer.json();
    assert.equal(me.user_id, `@${username}:localhost`);
    assert.equal(me.device_id, 'ERINWEATHERBOT');

    // Shown once: after a reload, the list names it but the token is gone.
    await page.goto(new URL('account/tokens', base).href);
    assert.equal(await page.locator('#new-token').count(), 0);
    assert.match(await page.textContent('main'), /Erin’s weather bot/);
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.waitForURL(/\/account\/tokens\?done=revoked/);
    assert.match(await page.textContent('[role=status]'), /no longer works/);
    let status = 200;
    for (let attempt = 0; attempt < 100 && status !== 401; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await whoami(token);
    }
    assert.equal(status, 401, 'Synapse still accepts the revoked token');
  });

  await step('deactivate the account; signing in is then refused', async () => {
    await page.getByRole('link', { name: 'Deactivate' }).click();
    await page.waitForURL(/\/account\/deactivate/);
    assert.equal(await heading(page), 'Deactivate your account');
    await shot(page, 'deactivate');
    await shot(page, 'deactivate-dark', { dark: true });
    // Unlike the other sensitive pages, a recent sign-in is not enough here.
    assert.equal(await page.locator('#password').count(), 1, 'asked at once');

    // An old sign-in and a wrong password: the account stays.
    ageSignIns(10);
    await page.reload();
    assert.equal(await page.locator('#password').count(), 1, 'deactivation asks for the password');
    await page.locator('#password').fill('not the password');
    await page.getByRole('button', { name: 'Deactivate my account' }).click();
    await shown(page, 'text=Wrong password');
    assert.equal(await heading(page), 'Deactivate your account');

    await page.locator('#password').fill(secondPassword);
    await page.getByRole('button', { name: 'Deactivate my account' }).click();
    await page.waitForURL(/\/account\/deactivated/);
    assert.equal(await heading(page), 'Your account is deactivated');

    await page.goto(new URL('login', base).href);
    await signIn(page, secondPassword);
    await shown(page, 'text=This account has been deactivated');
    assert.doesNotMatch(page.url(), /\/account\//);
    assert.match(await page.textContent('main'), /This account has been deactivated/);
  });

  await context.close();
});
