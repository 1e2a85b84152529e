// Passkeys in Debian's Chromium (driven by playwright-core), with Chromium's virtual WebAuthn
// authenticator (DevTools protocol) standing in for a phone or a laptop's screen lock. Browsers
// refuse WebAuthn on an IP address, so this suite starts a server of its own whose public base
// is `http://localhost:PORT/` (Chromium maps `localhost` to 127.0.0.1, where it listens). A user
// adds a passkey on the account page; a fresh browser holding the same passkey signs in with it
// alone; another signs in with the password and then the passkey as the second step, and later,
// where an account page asks for the password, confirms with the passkey instead. Last, she
// gives up her password (passkey-only accounts are allowed here) and the password no longer
// signs in. With SCREENSHOTS_DIR set, the pages are saved there as PNGs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { ageSignIns, journey } from './browser.mjs';

const screenshots = process.env.SCREENSHOTS_DIR ? resolve(process.env.SCREENSHOTS_DIR) : null;
const viewport = { width: 1000, height: 800 };
const username = 'pia';
const password = 'pia would rather use her fingerprint 7';

let dir;
let server;
let base;
let browser;

function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.on('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

before(async () => {
  assert.ok(process.env.MAS_BIN, 'MAS_BIN is not set (run this through interop/run.sh)');
  const port = await freePort();
  base = new URL(`http://localhost:${port}/`);
  dir = mkdtempSync(join(tmpdir(), 'portcullis-passkeys-'));
  writeFileSync(
    join(dir, 'config.yaml'),
    `http:
  public_base: ${base.href}
  issuer: ${base.href}
  listeners:
    - name: web
      resources:
        - name: discovery
        - name: human
        - name: oauth
        - name: health
      binds:
        - address: "127.0.0.1:${port}"
secrets:
  encryption: "${randomBytes(32).toString('hex')}"
  keys:
    - kid: passkeys-rsa
      key_file: "${process.env.KEY_FILE}"
rate_limiting:
  login:
    per_ip:
      burst: 100
      per_second: 10
matrix:
  homeserver: localhost
  secret: passkeys-homeserver-secret
  endpoint: "http://127.0.0.1:${await freePort()}/"
account:
  second_factors:
    passkey_only_accounts_allowed: true
`,
  );
  const run = (...args) => execFileSync(process.env.MAS_BIN, args, { cwd: dir, stdio: 'pipe' });
  run('database', 'migrate');
  run('manage', 'register-user', username, '-p', password, '--yes');
  server = spawn(process.env.MAS_BIN, ['server'], { cwd: dir, stdio: 'ignore' });
  for (let i = 0; ; i += 1) {
    const up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (up) break;
    assert.ok(i < 200, 'the server did not start');
    await new Promise((done) => setTimeout(done, 50));
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--host-resolver-rules=MAP localhost 127.0.0.1'],
  });
  if (screenshots) mkdirSync(screenshots, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});


async function shot(page, name) {
  if (!screenshots) return;
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

/** A fresh browser with a virtual authenticator (a platform one, that verifies its user),
 * holding `credentials` if given: the page, the DevTools session and the authenticator. */
async function withAuthenticator(credentials = []) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  for (const credential of credentials) {
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
  }
  return { context, page, cdp, authenticatorId };
}

async function typePassword(page) {
  await page.goto(new URL('login', base).href);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

test('passkeys, in a real browser', async (t) => {
  const step = journey(t);
  let credentials;

  await step('adds a passkey on the account page', async () => {
    const { context, page, cdp, authenticatorId } = await withAuthenticator();
    await typePassword(page);
    await page.waitForURL((url) => url.href === base.href);
    await page.goto(new URL('account/second-factors', base).href);
    await page.getByLabel('Name of the passkey').fill('Laptop');
    page.on('console', (message) => console.error(`page: ${message.text()}`));
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    // The notice, or an error said on the page.
    await page.locator('.notice, [role=alert]:visible').first().waitFor();
    const alert = page.locator('[role=alert]:visible');
    if (await alert.count()) assert.fail(`refused: ${await alert.first().textContent()}`);
    await page.getByText('Passkey Laptop added.').waitFor();
    assert.equal(await page.locator('.recovery-codes code').count(), 10);
    assert.match(await page.locator('.passkeys').textContent(), /Laptop/);
    await shot(page, 'passkeys');
    ({ credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId }));
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].rpId, 'localhost');
    assert.ok(credentials[0].isResidentCredential, 'a discoverable credential');
    await context.close();
  });

  await step('the passkey alone signs in, without a username', async () => {
    const { context, page, cdp, authenticatorId } = await withAuthenticator(credentials);
    await page.goto(new URL('login', base).href);
    const button = page.getByRole('button', { name: 'Sign in with a passkey' });
    await button.waitFor();
    await shot(page, 'login-passkey');
    await button.click();
    await page.waitForURL((url) => url.href === base.href);
    await page.goto(new URL('account/', base).href);
    assert.match(await page.textContent('body'), /@pia:localhost/);
    // The authenticator counted this signature: the next browser holds the passkey as it is
    // now (a copy with an older counter would be refused as a clone).
    ({ credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId }));
    await context.close();
  });

  await step('after the password, the passkey is the second step; later it confirms who she is', async () => {
    const { context, page, cdp, authenticatorId } = await withAuthenticator(credentials);
    await typePassword(page);
    await page.waitForURL(/\/login\/second-factor$/);
    await shot(page, 'second-factor-passkey');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL((url) => url.href === base.href);
    await page.goto(new URL('account/', base).href);
    assert.match(await page.textContent('body'), /@pia:localhost/);

    // Ten minutes on, the password page asks for the password again; the passkey does instead.
    ageSignIns(join(dir, 'mas.db'), 10);
    await page.goto(new URL('account/password', base).href);
    assert.doesNotMatch(await page.textContent('body'), /you signed in a moment ago/);
    await page.getByRole('button', { name: 'Confirm with a passkey instead' }).click();
    await page.waitForURL(/\/account\/password$/);
    await page.getByText('you signed in a moment ago').waitFor();
    ({ credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId }));
    await context.close();
  });

  await step('without the passkey, the password alone does not sign in', async () => {
    const { context, page } = await withAuthenticator();
    await typePassword(page);
    await page.waitForURL(/\/login\/second-factor$/);
    const response = await page.goto(new URL('account/', base).href);
    assert.match(page.url(), /\/login/);
    assert.ok(response);
    await context.close();
  });

  await step('she gives up her password, and signs in with the passkey alone from then on', async () => {
    const { context, page } = await withAuthenticator(credentials);
    await page.goto(new URL('login', base).href);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL((url) => url.href === base.href);
    await page.goto(new URL('account/password', base).href);
    await page.getByRole('button', { name: 'Remove my password' }).click();
    await page.getByText('Your password has been removed.').waitFor();
    await page.getByRole('heading', { name: 'Set a password' }).waitFor();
    await shot(page, 'password-removed');
    await context.close();

    const fresh = await withAuthenticator();
    await typePassword(fresh.page);
    await fresh.page.locator('[role=alert]').first().waitFor();
    assert.match(fresh.page.url(), /\/login/);
    await fresh.context.close();
  });

  await step('a flood of passkey ceremonies from one address is refused', async () => {
    // Each ceremony is stored until answered: they count as sign-in attempts of the address
    // (this server allows 100 at once, then 10 a second).
    const options = `http://127.0.0.1:${base.port}/login/passkey/options`;
    let refused;
    for (let i = 0; i < 300 && !refused; i += 1) {
      const reply = await fetch(options, { method: 'POST' });
      if (reply.status === 429) refused = reply;
      else assert.equal(reply.status, 200);
    }
    assert.ok(refused, 'no ceremony was refused');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.match((await refused.json()).error, /Too many sign-in attempts/);
  });
});
