// The human pages in a real browser (Debian's Chromium, driven by playwright-core): the code
// flow with sign-in and consent, registration through prompt=create, and the hygiene every page
// must have (framing refused, no resource from another host, a label on every input, a dark
// theme). openid-client builds the requests and checks the tokens; Synapse accepts them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { chromium } from 'playwright-core';

const base = new URL(process.env.BASE_URL);
const synapse = new URL(process.env.SYNAPSE_URL);
const username = process.env.USERNAME;
const password = process.env.PASSWORD;
const redirectUri = 'https://browser.interop.example.org/callback';

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
});
after(async () => {
  await browser?.close();
});

async function registerClient() {
  return client.dynamicClientRegistration(
    base,
    {
      client_name: 'Browser interop',
      client_uri: 'https://browser.interop.example.org/',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    client.None(),
    { execute: [client.allowInsecureRequests] },
  );
}

/**
 * A fresh browser context that records every request and answers the client's redirect URI
 * itself (the client is not a real web site); `callback()` resolves with the URL it received.
 */
async function newPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  let reached;
  const callback = new Promise((resolve) => {
    reached = resolve;
  });
  await page.route(`${redirectUri}**`, async (route) => {
    reached(new URL(route.request().url()));
    await route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the client' });
  });
  return { context, page, requests, callback: () => callback };
}

/** Every visible input of the page has a label (an associated <label>, or aria-label). */
async function unlabelledInputs(page) {
  return page.$$eval('input:not([type=hidden]), select, textarea', (inputs) =>
    inputs
      .filter((input) => !(input.labels?.length > 0 || input.getAttribute('aria-label')))
      .map((input) => input.name || input.id || input.outerHTML),
  );
}

async function whoami(token) {
  const response = await fetch(new URL('_matrix/client/v3/account/whoami', synapse), {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: await response.json() };
}

test('the code flow in a real browser: sign in, consent, tokens that Synapse accepts', async () => {
  const config = await registerClient();
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid urn:matrix:client:api:* urn:matrix:client:device:BROWSERDEV1',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const { context, page, requests, callback } = await newPage();

  const first = await page.goto(authorizationUrl.href);
  assert.equal(first.status(), 200);
  assert.match(page.url(), /\/login/);
  // Framing is refused on every page, and the login form is labelled.
  const headers = first.headers();
  assert.equal(headers['x-frame-options'], 'DENY');
  assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
  assert.deepEqual(await unlabelledInputs(page), []);

  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/consent\//);
  assert.match(await page.textContent('body'), /Browser interop/);
  await page.getByRole('button', { name: 'Allow' }).click();

  const returned = await callback();
  const tokens = await client.authorizationCodeGrant(config, returned, {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  const onSynapse = await whoami(tokens.access_token);
  assert.equal(onSynapse.status, 200);
  assert.equal(onSynapse.body.device_id, 'BROWSERDEV1');

  // Nothing was loaded from another host than ours (and the client's redirect URI).
  const foreign = requests.filter(
    (url) => new URL(url).origin !== base.origin && !url.startsWith(redirectUri),
  );
  assert.deepEqual(foreign, []);
  await context.close();
});

test('prompt=create in a real browser: register, consent, a working token', async () => {
  const config = await registerClient();
  const verifier = client.randomPKCECodeVerifier();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid urn:matrix:client:api:* urn:matrix:client:device:BROWSERDEV2',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    prompt: 'create',
  });
  const { context, page, callback } = await newPage();

  await page.goto(authorizationUrl.href);
  assert.match(page.url(), /\/register/);
  assert.deepEqual(await unlabelledInputs(page), []);
  await page.getByLabel('Username').fill('dora');
  await page.getByLabel('Password', { exact: true }).fill('a long and unguessable passphrase 42');
  await page.getByLabel(/confirm|again/i).fill('a long and unguessable passphrase 42');
  await page.getByLabel(/display name/i).fill('Dora the Explorer');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/consent\//);
  await page.getByRole('button', { name: 'Allow' }).click();

  const returned = await callback();
  const tokens = await client.authorizationCodeGrant(config, returned, {
    pkceCodeVerifier: verifier,
  });
  const onSynapse = await whoami(tokens.access_token);
  assert.equal(onSynapse.status, 200);
  assert.equal(onSynapse.body.user_id, '@dora:localhost');
  await context.close();
});

test('pages follow the colour scheme the browser asks for', async () => {
  const colours = {};
  for (const colorScheme of ['light', 'dark']) {
    const context = await browser.newContext({ colorScheme });
    const page = await context.newPage();
    await page.goto(new URL('login', base).href);
    colours[colorScheme] = await page.evaluate(
      () => getComputedStyle(document.body).backgroundColor,
    );
    await context.close();
  }
  assert.notEqual(colours.light, colours.dark);
});

test('a device deep link, through sign-in, ends a session that Synapse then refuses', async () => {
  // A session on a device, as a client would have it.
  const config = await registerClient();
  const verifier = client.randomPKCECodeVerifier();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid urn:matrix:client:api:* urn:matrix:client:device:BROWSERDEV3',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const { context, page, callback } = await newPage();
  await page.goto(authorizationUrl.href);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/consent\//);
  await page.getByRole('button', { name: 'Allow' }).click();
  const tokens = await client.authorizationCodeGrant(config, await callback(), {
    pkceCodeVerifier: verifier,
  });
  assert.equal((await whoami(tokens.access_token)).status, 200);
  await context.close();

  // Element sends the user to account_management_uri with the device_delete action.
  const metadata = await (await fetch(new URL('.well-known/openid-configuration', base))).json();
  const link = new URL(metadata.account_management_uri);
  link.searchParams.set('action', 'org.matrix.device_delete');
  link.searchParams.set('device_id', 'BROWSERDEV3');
  const fresh = await browser.newContext();
  const account = await fresh.newPage();
  await account.goto(link.href);
  assert.match(account.url(), /\/login/);
  await account.getByLabel('Username').fill(username);
  await account.getByLabel('Password').fill(password);
  await account.getByRole('button', { name: 'Sign in' }).click();
  await account.waitForURL(/\/account\/devices\/BROWSERDEV3/);
  assert.deepEqual(await unlabelledInputs(account), []);
  await account.getByRole('button', { name: 'End this session' }).click();
  await account.waitForLoadState();
  await fresh.close();

  // The device's deletion, queued by the end of the session, ends the token on Synapse.
  let status = 200;
  for (let attempt = 0; attempt < 100 && status !== 401; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    ({ status } = await whoami(tokens.access_token));
  }
  assert.equal(status, 401, 'Synapse still accepts the token of the ended session');
});

test('a browser asking for French gets the pages in French', async () => {
  const context = await browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  const response = await page.goto(new URL('login', base).href);
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.match(response.headers().vary ?? '', /accept-language/i);
  assert.deepEqual(await unlabelledInputs(page), []);
  assert.equal(await page.getByRole('button', { name: 'Se connecter' }).count(), 1);
  await context.close();
});
