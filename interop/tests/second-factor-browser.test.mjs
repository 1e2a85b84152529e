// Two-step verification in Debian's Chromium (driven by playwright-core): a user adds an
// authenticator app on the account page (the test reads the key the page shows and computes the
// codes as an app would, RFC 6238), notes the recovery codes, then signs in again in fresh
// browsers with the password and a code of the app, and with the password and a recovery code.
// The Matrix login API then refuses the password alone with a Matrix error naming the way out.
// With SCREENSHOTS_DIR set, the pages are saved there as PNGs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { base32, journey, totp } from './browser.mjs';

const base = new URL(process.env.BASE_URL);
const adminToken = process.env.ADMIN_TOKEN;
const screenshots = process.env.SCREENSHOTS_DIR ? resolve(process.env.SCREENSHOTS_DIR) : null;
const viewport = { width: 1000, height: 800 };
const username = 'ottilie';
const password = 'ottilie keeps a phone with an authenticator 4';

let browser;

before(async () => {
  assert.ok(adminToken, 'ADMIN_TOKEN is not set (run this through interop/run.sh)');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  if (screenshots) mkdirSync(screenshots, { recursive: true });
});

after(async () => {
  await browser?.close();
});

async function admin(method, path, body) {
  const response = await fetch(new URL(`api/admin/v1/${path}`, base), {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

async function shot(page, name) {
  if (!screenshots) return;
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

/** A fresh browser at the sign-in page, the password typed: the page that answers. */
async function passwordTyped() {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(new URL('login', base).href);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return { context, page };
}

test('an authenticator app and recovery codes, in a real browser', async (t) => {
  const step = journey(t);
  let key;
  let recoveryCodes;

  await step('the user exists with a password', async () => {
    const created = await admin('POST', 'users', { username });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const set = await admin('POST', `users/${created.body.data.id}/set-password`, { password });
    assert.equal(set.status, 204, JSON.stringify(set.body));
  });

  await step('adds an authenticator app from the QR code page', async () => {
    const { context, page } = await passwordTyped();
    await page.waitForURL((url) => url.href === base.href);
    await page.goto(new URL('account/second-factors', base).href);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const qr = page.locator('.qr-code img');
    await qr.waitFor();
    // The QR code is an image the browser decoded: it has a size of its own.
    assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code loads');
    const link = await page.getByRole('link', { name: /authenticator app on this device/ }).getAttribute('href');
    assert.match(link, /^otpauth:\/\/totp\/.*secret=[A-Z2-7]+/);
    key = base32(await page.locator('#totp-secret').textContent());
    assert.equal(key.length, 20);
    await shot(page, 'totp-setup');
    await page.getByLabel('Code from the app').fill(totp(key));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('.recovery-codes').waitFor();
    recoveryCodes = await page.locator('.recovery-codes code').allTextContents();
    assert.equal(recoveryCodes.length, 10);
    assert.match(await page.textContent('body'), /Two-step verification is on\./);
    await shot(page, 'second-factors');
    await context.close();
  });

  await step('the password alone leads to the code page, and a code of the app signs in', async () => {
    const { context, page } = await passwordTyped();
    await page.waitForURL(/\/login\/second-factor$/);
    await shot(page, 'second-factor');
    // The next step's code: the one of this step may have confirmed the app already.
    await page.getByLabel('Code').fill(totp(key, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL((url) => url.href === base.href);
    await page.goto(new URL('account/', base).href);
    assert.match(await page.textContent('body'), /@ottilie:localhost/);
    await context.close();
  });

  await step('a recovery code signs in once', async () => {
    const first = await passwordTyped();
    await first.page.waitForURL(/\/login\/second-factor$/);
    await first.page.getByLabel('Code').fill(recoveryCodes[0]);
    await first.page.getByRole('button', { name: 'Verify' }).click();
    await first.page.waitForURL((url) => url.href === base.href);
    await first.context.close();

    const second = await passwordTyped();
    await second.page.waitForURL(/\/login\/second-factor$/);
    await second.page.getByLabel('Code').fill(recoveryCodes[0]);
    await second.page.getByRole('button', { name: 'Verify' }).click();
    await second.page.locator('[role=alert]').waitFor();
    assert.match(await second.page.textContent('[role=alert]'), /not right, or it was used already/);
    assert.match(second.page.url(), /\/login\/second-factor$/);
    await second.context.close();
  });

  await step('the Matrix login API refuses the password alone, saying what to use', async () => {
    const response = await fetch(new URL('_matrix/client/v3/login', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: username },
        password,
      }),
    });
    assert.equal(response.status, 403);
    const body = await response.json();
    assert.equal(body.errcode, 'M_FORBIDDEN');
    assert.match(body.error, /two-step verification/);
    assert.match(body.error, /personal access token/);
  });
});
