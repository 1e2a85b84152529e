// Signing in as Element Web does: a one-page web client (interop/web-client/) built on the real
// matrix-js-sdk (from npm, bundled here with esbuild), served from its own HTTPS origin, runs in
// Debian's Chromium (driven by playwright-core). The page itself discovers the auth server
// through Synapse, registers, sends the person to our authorization endpoint, exchanges the code,
// calls whoami on Synapse, refreshes with the sdk's TokenRefresher and revokes; this file only
// fills our sign-in and consent pages in between and checks what the page reports.
//
// The page's origin is not ours, so every call it makes to the auth server is cross-origin and
// Chromium enforces CORS on it exactly as for Element: nothing here intercepts those requests.
// A blocked one fails the test, which then prints the failed requests and the page's console.
//
// The origin is https with a host name because MSC2966 refuses http and IP-address redirect URIs
// for web clients: app.interop.test is mapped to 127.0.0.1 inside Chromium, and its certificate
// is self-signed, made by openssl when the suite starts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

const base = new URL(process.env.BASE_URL);
const synapse = new URL(process.env.SYNAPSE_URL);
const username = process.env.USERNAME;
const password = process.env.PASSWORD;
const appHost = 'app.interop.test';
const webClient = fileURLToPath(new URL('../web-client/', import.meta.url));

let dir;
let server;
let browser;
let appOrigin;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'element-web-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-subj', `/CN=${appHost}`, '-addext', `subjectAltName=DNS:${appHost}`, '-days', '1',
        '-keyout', key, '-out', cert,
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    assert.fail(`openssl could not make the app's certificate: ${error.stderr ?? error.message}`);
  }

  // The browser build of the sdk (its package.json "browser" entry), as Element's bundler takes
  // it. The Rust crypto's wasm comes along but is only fetched by initRustCrypto, never called.
  await esbuild.build({
    entryPoints: [join(webClient, 'app.mjs')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    outfile: join(dir, 'app.js'),
    sourcemap: 'inline',
    logLevel: 'silent',
  });

  const index = { type: 'text/html', body: readFileSync(join(webClient, 'index.html')) };
  const files = {
    '/': index,
    '/callback': index,
    '/app.js': { type: 'text/javascript', body: readFileSync(join(dir, 'app.js')) },
    // Element's config.json names the homeserver the same way: a base URL without the slash.
    '/config.json': {
      type: 'application/json',
      body: JSON.stringify({ homeserver: synapse.href.replace(/\/$/, '') }),
    },
  };
  server = createServer(
    { key: readFileSync(key), cert: readFileSync(cert) },
    (request, response) => {
      const file = files[new URL(request.url, 'https://app').pathname];
      if (!file) return response.writeHead(404).end();
      response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
      response.end(file.body);
    },
  );
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  appOrigin = `https://${appHost}:${server.address().port}`;

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', `--host-resolver-rules=MAP ${appHost} 127.0.0.1`],
  });
});

after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What the browser says about the page: every request, and what went wrong, for the messages. */
function watch(page) {
  const seen = { requests: [], refused: [], failed: [], dropped: [], console: [], errors: [] };
  page.on('request', (request) => seen.requests.push(`${request.method()} ${request.url()}`));
  page.on('response', (response) => {
    const request = response.request();
    if (response.status() >= 400) {
      seen.refused.push(`${request.method()} ${request.url()}: ${response.status()}`);
    }
  });
  // A request that CORS blocks fails with net::ERR_FAILED (the console says why). ERR_ABORTED
  // after a response came is the page leaving a body unread: the sdk ignores the (empty) body
  // of the revocation's 200, as RFC 7009 lets it, and Chromium then reports the load aborted.
  page.on('requestfailed', async (request) => {
    const error = request.failure()?.errorText;
    const response = await request.response().catch(() => null);
    const line = `${request.method()} ${request.url()}: ${error}`;
    if (error === 'net::ERR_ABORTED' && response) {
      seen.dropped.push(`${line} after ${response.status()}`);
    } else {
      seen.failed.push(line);
    }
  });
  // First lines only: the sdk logs whole stack traces, which say nothing about the server.
  page.on('console', (message) => {
    const at = message.location()?.url;
    const [text] = message.text().split('\n');
    seen.console.push(`[${message.type()}] ${text}${at ? ` (${at})` : ''}`);
  });
  page.on('pageerror', (error) => seen.errors.push(String(error.stack ?? error)));
  seen.describe = () =>
    [
      `requests the browser failed or blocked (${seen.failed.length}):`,
      ...seen.failed.map((line) => `  ${line}`),
      ...seen.dropped.map((line) => `  (not counted: ${line})`),
      `answers of 400 or more (${seen.refused.length}):`,
      ...seen.refused.map((line) => `  ${line}`),
      `page errors (${seen.errors.length}):`,
      ...seen.errors.map((line) => `  ${line}`),
      `browser console (last 40 of ${seen.console.length}):`,
      ...seen.console.slice(-40).map((line) => `  ${line}`),
    ].join('\n');
  return seen;
}

const title = "Element Web's sign-in, by matrix-js-sdk in a browser on another origin";
test(title, { timeout: 60_000 }, async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  // The page calls window.__report after each step; the binding outlives its navigations.
  const reports = new Map();
  let failure = null;
  await context.exposeBinding('__report', (_source, report) => {
    if (report.error) failure ??= report;
    else reports.set(report.step, report.detail);
  });
  const page = await context.newPage();
  const seen = watch(page);

  const why = (step, text) => `${step}: ${text}\n${seen.describe()}`;
  // Waits for `ready()` while the page works, failing at once with its own words if it reports
  // an error, and naming what never came otherwise.
  async function until(what, ready, ms = 20_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      if (failure) assert.fail(why(failure.step, `failed in the page: ${failure.error}`));
      const value = ready();
      if (value) return value;
      if (Date.now() > deadline) {
        const done = [...reports.keys()].join(', ') || 'none';
        assert.fail(why(what, `timed out (steps done in the page: ${done}; at ${page.url()})`));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  await page.goto(`${appOrigin}/`);
  await until('reaching the sign-in page', () => new URL(page.url()).pathname === '/login');

  const { metadata } = reports.get('discovery');
  assert.equal(metadata.issuer, base.href, why('discovery', 'the issuer is not the auth server'));
  const { clientId } = reports.get('registration');
  assert.ok(clientId, why('registration', 'no client_id'));
  const { url, deviceId } = reports.get('authorization request');
  const authorize = new URL(url);
  assert.equal(
    `${authorize.origin}${authorize.pathname}`,
    metadata.authorization_endpoint,
    why('authorization request', 'not sent to the authorization_endpoint'),
  );
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authorize.searchParams.get('redirect_uri'), `${appOrigin}/callback`);

  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await until('reaching the consent page', () => /\/consent\//.test(page.url()));
  assert.match(
    await page.textContent('body'),
    /Element Web \(interop\)/,
    why('consent', 'the page does not name the client'),
  );
  await page.getByRole('button', { name: 'Allow' }).click();

  await until('the end of the flow in the page', () => reports.has('done'));

  const authorization = reports.get('authorization');
  assert.ok(authorization.inFragment, why('authorization', 'the code is not in the fragment'));

  const tokens = reports.get('token');
  assert.equal(tokens.token_type, 'Bearer', why('token', 'not a bearer token'));
  assert.match(tokens.access_token, /^mat_/, why('token', 'not one of our access tokens'));
  assert.match(tokens.refresh_token ?? '', /^mar_/, why('token', 'no refresh token'));
  assert.ok(
    (tokens.scope ?? '').split(' ').includes(`urn:matrix:client:device:${deviceId}`),
    why('token', `the scope ${tokens.scope} lacks the device the sdk asked for`),
  );

  const me = { user_id: `@${username}:localhost`, device_id: deviceId };
  const whoami = reports.get('whoami');
  assert.deepEqual(
    { user_id: whoami.user_id, device_id: whoami.device_id },
    me,
    why('whoami', 'Synapse does not know the token as the user on the device'),
  );

  const refreshed = reports.get('refresh');
  assert.notEqual(refreshed.accessToken, tokens.access_token, why('refresh', 'the same token'));
  assert.match(refreshed.refreshToken ?? '', /^mar_/, why('refresh', 'no new refresh token'));
  assert.ok(refreshed.handedOver, why('refresh', 'TokenRefresher did not hand the tokens over'));
  const again = reports.get('whoami after refresh');
  assert.deepEqual(
    { user_id: again.user_id, device_id: again.device_id },
    me,
    why('whoami after refresh', 'Synapse does not accept the refreshed token'),
  );

  assert.equal(reports.get('revocation').endpoint, metadata.revocation_endpoint);
  const revoked = reports.get('whoami after revocation');
  assert.equal(revoked.status, 401, why('whoami after revocation', 'not refused'));
  assert.equal(revoked.errcode, 'M_UNKNOWN_TOKEN');

  // Each OAuth call went from the page to the auth server (not through node), and nothing
  // reached a host other than the app, the auth server and Synapse.
  for (const call of [
    `GET ${synapse.origin}/_matrix/client/v1/auth_metadata`,
    `POST ${metadata.registration_endpoint}`,
    `POST ${metadata.token_endpoint}`,
    `POST ${metadata.revocation_endpoint}`,
  ]) {
    assert.ok(seen.requests.includes(call), why('requests', `the page never made ${call}`));
  }
  const origins = new Set([appOrigin, base.origin, synapse.origin]);
  const foreign = seen.requests.filter((line) => !origins.has(new URL(line.split(' ')[1]).origin));
  assert.deepEqual(foreign, [], why('requests', 'requests to another host'));
  assert.deepEqual(seen.failed, [], why('requests', 'the browser failed or blocked some'));
  assert.deepEqual(seen.errors, [], why('page', 'uncaught errors'));
  await context.close();
});
