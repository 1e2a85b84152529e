// Signing in through an upstream provider: a real OpenID Provider (npm oidc-provider, started
// here on the port interop/run.sh configured as the homelab guide's "Pocket ID": discovery,
// client_secret_post, its three claims templates) and the server as its relying party. The
// provider's pages are driven by upstream-op/signin.mjs, the server's by the tiny Browser.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

import { startProvider } from '../upstream-op/op.mjs';
import { signIn as signInUpstream } from '../upstream-op/signin.mjs';
import { base32, Browser, field, signIn as signInWithPassword, totp } from './browser.mjs';

const base = new URL(process.env.BASE_URL);
const providerId = process.env.UPSTREAM_ID;
const adminToken = process.env.ADMIN_TOKEN;
const username = process.env.USERNAME;
const password = process.env.PASSWORD;
const synapse = new URL(process.env.SYNAPSE_URL);

// The other clients of the same provider (interop/run.sh).
const KEYCLOAK = '01JPQ0C4ETQD0000000000P0C2';
const AUTHENTIK = '01JPQ0C4ETQD0000000000P0C3';
const WRONG_KEYS = '01JPQ0C4ETQD0000000000P0C4';

let op;

before(async () => {
  op = await startProvider({
    port: Number(process.env.UPSTREAM_PORT),
    clients: [
      {
        client_id: 'portcullis',
        client_secret: 'interop-upstream-secret',
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [new URL(`upstream/callback/${providerId}`, base).href],
        backchannel_logout_uri: new URL(`upstream/backchannel-logout/${providerId}`, base).href,
        backchannel_logout_session_required: true,
      },
      {
        client_id: 'portcullis-basic',
        client_secret: 'interop-upstream-basic-secret',
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [new URL(`upstream/callback/${KEYCLOAK}`, base).href],
        response_modes: ['form_post'],
        userinfo_signed_response_alg: 'RS256',
      },
      {
        client_id: 'portcullis-pkjwt',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        // This server's public keys, as its discovery document names them.
        jwks_uri: new URL('oauth2/keys.json', base).href,
        id_token_signed_response_alg: 'ES256',
        redirect_uris: [new URL(`upstream/callback/${AUTHENTIK}`, base).href],
      },
      {
        client_id: 'portcullis-wrongkeys',
        client_secret: 'interop-upstream-wrongkeys-secret',
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [new URL(`upstream/callback/${WRONG_KEYS}`, base).href],
      },
    ],
    accounts: {
      'alice-sub': {
        preferred_username: username,
        name: 'Alice Liddell',
        email: 'alice@example.com',
        email_verified: true,
      },
      'carol-sub': {
        preferred_username: 'carol',
        name: 'Carol Danvers',
        email: 'carol@example.com',
        email_verified: true,
      },
      'dave-sub': {
        preferred_username: 'dave',
        name: 'Dave',
        email: 'dave@example.com',
        email_verified: false,
      },
      'alice-work-sub': { preferred_username: 'alice.work', name: 'Alice at work' },
      'iris-sub': { preferred_username: 'iris', name: 'Iris' },
      'frank-sub': { preferred_username: 'frank', name: 'Frank' },
      'henry-sub': {
        preferred_username: 'henry',
        name: 'Henry Jekyll',
        email: 'henry@example.com',
        email_verified: true,
      },
      'nora-sub': { preferred_username: 'nora', name: 'Nora' },
      'Bad-sub': { preferred_username: 'Not A Username', name: 'Bad' },
    },
  });
});

after(async () => {
  await op?.close();
});

/** A call to the Admin API with the operator's token. */
async function admin(method, path, body) {
  const response = await fetch(new URL(`api/admin/v1/${path}`, base), {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/**
 * From the server's `/upstream/authorize/{provider}` to its callback: the provider's sign-in
 * as `login`. Resolves to the callback URL the provider sent the browser to.
 */
async function throughProvider(browser, login, { direct = false } = {}) {
  let startUrl = `upstream/authorize/${providerId}`;
  if (!direct) {
    // The sign-in page offers the provider, as the homelab guide says to check.
    const page = await browser.get('login');
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Continue with Pocket ID/);
    const button = html.match(/href="([^"]*upstream\/authorize\/[^"]*)"/);
    assert.ok(button, 'a button to the provider');
    startUrl = button[1].replaceAll('&amp;', '&');
    assert.equal(new URL(startUrl, base).pathname, `/upstream/authorize/${providerId}`);
  }
  const start = await browser.get(startUrl);
  assert.equal(start.status, 303, 'the server sends the browser to the provider');
  const authorization = new URL(start.headers.get('location'));
  assert.equal(authorization.origin, new URL(op.issuer).origin);
  assert.equal(authorization.searchParams.get('client_id'), 'portcullis');
  assert.ok(authorization.searchParams.get('state'));
  assert.ok(authorization.searchParams.get('nonce'));
  assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
  const answer = await signInUpstream(authorization.href, { login });
  assert.equal(answer.kind, 'redirect');
  assert.ok(answer.url.href.startsWith(new URL(`upstream/callback/${providerId}`, base).href));
  return answer.url;
}

test('a user linked to an account at the provider signs in with it', async () => {
  const users = await admin('GET', `users/by-username/${username}`);
  assert.equal(users.status, 200);
  const linked = await admin('POST', 'upstream-oauth-links', {
    user_id: users.body.data.id,
    provider_id: providerId,
    subject: 'alice-sub',
  });
  assert.equal(linked.status, 201, JSON.stringify(linked.body));

  const browser = new Browser(base);
  const callback = await throughProvider(browser, 'alice-sub');
  const completed = await browser.get(callback);
  assert.equal(completed.status, 303, await completed.clone().text());
  const link = completed.headers.get('location');
  assert.match(link, /upstream\/link\/[0-9A-Z]{26}$/);

  // Another browser cannot use this sign-in: it did not start it.
  const elsewhere = await new Browser(base).get(link);
  assert.equal(elsewhere.status, 400);

  const signedIn = await browser.get(link);
  assert.equal(signedIn.status, 303);
  const account = await browser.get('account/');
  assert.equal(account.status, 200);
  assert.match(await account.text(), new RegExp(`@${username}:`));

  // The answer and the link page are single-use.
  assert.equal((await browser.get(callback)).status, 400);
  assert.equal((await browser.get(link)).status, 400);

  // The Admin API shows the link, found by its subject.
  const found = await admin('GET', `upstream-oauth-links?filter[subject]=alice-sub`);
  assert.equal(found.body.meta.count, 1);
  assert.equal(found.body.data[0].attributes.user_id, users.body.data.id);
});

test('an account with an authenticator app takes the second step after signing in at the provider', async () => {
  // Nora registers from her claims at the provider (which does not vouch for a second factor).
  const browser = new Browser(base);
  const registered = await browser.get(await throughProvider(browser, 'nora-sub', { direct: true }));
  assert.equal(registered.status, 303, await registered.clone().text());
  const link = registered.headers.get('location');
  const linkPage = await (await browser.get(link)).text();
  const created = await browser.post(link, { csrf: field(linkPage, 'csrf'), action: 'register' });
  assert.equal(created.status, 303, await created.clone().text());

  // She adds an authenticator app on the account page (signed in a moment ago: nothing asked).
  const factors = await (await browser.get('account/second-factors')).text();
  const started = await browser.post('account/second-factors/totp', { csrf: field(factors, 'csrf') });
  assert.equal(started.status, 303, await started.clone().text());
  const setup = await (await browser.get(started.headers.get('location'))).text();
  const secret = setup.match(/id="totp-secret">([A-Z2-7 ]+)</);
  assert.ok(secret, setup);
  const key = base32(secret[1]);
  const confirmed = await browser.post('account/second-factors/totp/confirm', {
    csrf: field(setup, 'csrf'),
    code: totp(key),
  });
  assert.equal(confirmed.status, 200, await confirmed.clone().text());
  assert.match(await confirmed.text(), /<li><code>/, 'recovery codes shown once');

  // Next time, the provider's answer alone does not sign her in: the code page comes first.
  const next = new Browser(base);
  const completed = await next.get(await throughProvider(next, 'nora-sub', { direct: true }));
  assert.equal(completed.status, 303, await completed.clone().text());
  const linked = await next.get(completed.headers.get('location'));
  assert.equal(linked.status, 303, await linked.clone().text());
  assert.equal(new URL(linked.headers.get('location'), base).pathname, '/login/second-factor');
  assert.equal((await next.get('account/')).status, 303, 'not signed in before the code');
  const step = await (await next.get('login/second-factor')).text();
  assert.match(step, /name="code"/);
  const valid = [-1, 0, 1, 2].map((steps) => totp(key, steps));
  const wrongCode = ['000000', '111111', '222222', '333333', '444444'].find((c) => !valid.includes(c));
  const wrong = await next.post('login/second-factor', { csrf: field(step, 'csrf'), code: wrongCode });
  assert.equal(wrong.status, 401);
  const signedIn = await next.post('login/second-factor', { csrf: field(step, 'csrf'), code: totp(key, 1) });
  assert.equal(signedIn.status, 303, await signedIn.clone().text());
  const account = await next.get('account/');
  assert.equal(account.status, 200);
  assert.match(await account.text(), /@nora:/);
});

test('a user moved from Synapse by syn2mas keeps their device and signs in through the provider Synapse knew', async () => {
  // interop/run.sh: Synapse had `migrant` on its own, linked to `migrant-sub` at this provider
  // (Synapse's `oidc-pocket`), signed in on MIGRANTPHONE; `syn2mas migrate` moved them here.
  const before = await whoami(process.env.MIGRANT_TOKEN);
  assert.equal(before.status, 200, JSON.stringify(before.body));
  assert.equal(before.body.user_id, '@migrant:localhost');
  assert.equal(before.body.device_id, 'MIGRANTPHONE');

  op.accounts.set('migrant-sub', {
    preferred_username: 'someone-else',
    name: 'Migrant',
    email: 'migrant@example.org',
    email_verified: true,
  });
  const browser = new Browser(base);
  const callback = await throughProvider(browser, 'migrant-sub');
  const completed = await browser.get(callback);
  assert.equal(completed.status, 303, await completed.clone().text());
  const link = completed.headers.get('location');
  assert.match(link, /upstream\/link\/[0-9A-Z]{26}$/);
  // The link moved from Synapse decides the account, not the claims.
  const signedIn = await browser.get(link);
  assert.equal(signedIn.status, 303, await signedIn.clone().text());
  const account = await browser.get('account/');
  assert.equal(account.status, 200);
  assert.match(await account.text(), /@migrant:localhost/);

  // The password Synapse had signs in on our sign-in page too (Synapse's bcrypt hash, moved).
  const other = new Browser(base);
  const toLogin = await other.get('account/');
  assert.equal(toLogin.status, 303);
  const withPassword = await signInWithPassword(other, toLogin, 'migrant', 'migrant password');
  assert.equal(withPassword.status, 303, await withPassword.clone().text());
  const again = await other.get('account/');
  assert.equal(again.status, 200);
  assert.match(await again.text(), /@migrant:localhost/);
});

/** The provider's answer taken to `/upstream/link/{id}`: that page's response and its URL. */
async function linkPage(browser, login, options) {
  const callback = await throughProvider(browser, login, options);
  const completed = await browser.get(callback);
  assert.equal(completed.status, 303, await completed.clone().text());
  const link = completed.headers.get('location');
  return { link, page: await browser.get(link) };
}

/** `GET /account/whoami` on Synapse with `token`. */
async function whoami(token) {
  const response = await fetch(new URL('_matrix/client/v3/account/whoami', synapse), {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: await response.json() };
}

test('a new account at the provider registers from its claims and lands on Synapse', async () => {
  // As a Matrix client without OAuth 2.0 does: the login API's single sign-on, straight to
  // the provider (`/login/sso/redirect/{idp}`), back with a login token.
  const flows = await (await fetch(new URL('_matrix/client/v3/login', base))).json();
  const sso = flows.flows.find((flow) => flow.type === 'm.login.sso');
  const idp = sso.identity_providers.find((p) => p.name === 'Pocket ID');
  assert.ok(idp, JSON.stringify(sso));
  const browser = new Browser(base);
  const clientUrl = 'https://client.example.org/sso-done';
  const start = await browser.get(
    `_matrix/client/v3/login/sso/redirect/${idp.id}?redirectUrl=${encodeURIComponent(clientUrl)}`,
  );
  assert.equal(start.status, 303);
  const toProvider = await browser.get(start.headers.get('location'));
  assert.equal(toProvider.status, 303);
  const answer = await signInUpstream(toProvider.headers.get('location'), { login: 'carol-sub' });
  const completed = await browser.get(answer.url);
  assert.equal(completed.status, 303, await completed.clone().text());
  const link = completed.headers.get('location');

  // The claims propose the account: the username required (not editable), the name and the
  // verified address suggested.
  const page = await browser.get(link);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /Create your account with Pocket ID/);
  assert.match(html, /<strong id="user-id">@carol:localhost<\/strong>/);
  assert.doesNotMatch(html, /name="username"/);
  assert.match(html, /name="import_display_name" value="yes" checked/);
  assert.match(html, /Carol Danvers/);
  assert.match(html, /name="import_email" value="yes" checked/);

  // Registered: signed in and sent on to the single sign-on's consent.
  const created = await browser.post(link, {
    csrf: field(html, 'csrf'),
    action: 'register',
    import_display_name: 'yes',
    import_email: 'yes',
  });
  assert.equal(created.status, 303, await created.clone().text());
  const consentUrl = new URL(created.headers.get('location'), base);
  assert.match(consentUrl.pathname, /^\/complete-compat-sso\//);
  const consent = await browser.get(consentUrl);
  assert.equal(consent.status, 200);
  const back = await browser.post(consentUrl, { csrf: field(await consent.text(), 'csrf'), action: 'allow' });
  assert.equal(back.status, 303);
  const loginToken = new URL(back.headers.get('location')).searchParams.get('loginToken');
  assert.ok(loginToken);
  const login = await fetch(new URL('_matrix/client/v3/login', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'm.login.token', token: loginToken }),
  });
  assert.equal(login.status, 200, await login.clone().text());
  const session = await login.json();
  assert.equal(session.user_id, '@carol:localhost');

  // Synapse knows the new user, with the imported display name.
  const onSynapse = await whoami(session.access_token);
  assert.equal(onSynapse.status, 200, JSON.stringify(onSynapse.body));
  assert.equal(onSynapse.body.user_id, '@carol:localhost');
  let displayname;
  for (let tries = 0; tries < 100 && displayname !== 'Carol Danvers'; tries += 1) {
    const profile = await fetch(new URL('_matrix/client/v3/profile/@carol:localhost/displayname', synapse), {
      headers: { authorization: `Bearer ${session.access_token}` },
    });
    displayname = profile.ok ? (await profile.json()).displayname : undefined;
    if (displayname !== 'Carol Danvers') await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(displayname, 'Carol Danvers');

  // The address the provider verified is the account's; the link is recorded.
  const user = await admin('GET', 'users/by-username/carol');
  const emails = await admin('GET', `user-emails?filter[user]=${user.body.data.id}`);
  assert.deepEqual(emails.body.data.map((email) => email.attributes.email), ['carol@example.com']);
  const links = await admin('GET', `upstream-oauth-links?filter[user]=${user.body.data.id}`);
  assert.deepEqual(links.body.data.map((l) => l.attributes.subject), ['carol-sub']);

  // The page is used: posting it again registers nobody.
  const again = await browser.post(link, { csrf: field(html, 'csrf'), action: 'register' });
  assert.equal(again.status, 400);

  // A returning user: the next sign-in with the provider signs carol in at once.
  const returning = new Browser(base);
  const next = await linkPage(returning, 'carol-sub');
  assert.equal(next.page.status, 303);
  const account = await returning.get('account/');
  assert.match(await account.text(), /@carol:localhost/);
});

test('an address the provider has not verified is not added, and a bad username is explained', async () => {
  const browser = new Browser(base);
  const { link, page } = await linkPage(browser, 'dave-sub');
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /gave the address dave@example.com without confirming that it is yours/);
  assert.doesNotMatch(html, /name="import_email"/);
  // Leaving the suggested display name out.
  const created = await browser.post(link, { csrf: field(html, 'csrf'), action: 'register' });
  assert.equal(created.status, 303, await created.clone().text());
  const user = await admin('GET', 'users/by-username/dave');
  assert.equal(user.status, 200);
  const emails = await admin('GET', `user-emails?filter[user]=${user.body.data.id}`);
  assert.equal(emails.body.meta.count, 0);

  // A username the provider requires but that is not one: a page that says which and why.
  const bad = await linkPage(new Browser(base), 'Bad-sub');
  assert.equal(bad.page.status, 403);
  assert.match(await bad.page.text(), /Not A Username/);
});

test('a signed-in user links another account at the provider, and another user is told it is not theirs', async () => {
  const browser = new Browser(base);
  const toLogin = await browser.get('account/');
  assert.equal(toLogin.status, 303);
  const signedIn = await signInWithPassword(browser, toLogin, username, password);
  assert.equal(signedIn.status, 303);

  const { link, page } = await linkPage(browser, 'alice-work-sub', { direct: true });
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /Link your Pocket ID account\?/);
  assert.match(html, new RegExp(`@${username}:localhost`));
  const linked = await browser.post(link, { csrf: field(html, 'csrf'), action: 'link' });
  assert.equal(linked.status, 303, await linked.clone().text());
  const user = await admin('GET', `users/by-username/${username}`);
  const links = await admin('GET', `upstream-oauth-links?filter[subject]=alice-work-sub`);
  assert.equal(links.body.data[0].attributes.user_id, user.body.data.id);

  // Signed in as alice, a sign-in with carol's account changes nothing.
  const mismatch = await linkPage(browser, 'carol-sub', { direct: true });
  assert.equal(mismatch.page.status, 403);
  assert.match(await mismatch.page.text(), /linked to another user than the one signed in/);
  const account = await browser.get('account/');
  assert.match(await account.text(), new RegExp(`@${username}:localhost`));

  // The linked account now signs alice in.
  const elsewhere = new Browser(base);
  const again = await linkPage(elsewhere, 'alice-work-sub');
  assert.equal(again.page.status, 303);
  assert.match(await (await elsewhere.get('account/')).text(), new RegExp(`@${username}:localhost`));

  // The account page lists it, and unlinks it (alice keeps her password).
  const profile = await (await elsewhere.get('account/')).text();
  assert.match(profile, /Pocket ID: <strong>alice-work-sub<\/strong>/);
  const remove = profile.match(/action="([^"]*upstream-links\/[0-9A-Z]{26}\/remove)"/g);
  assert.equal(remove.length, 2, 'alice-sub and alice-work-sub');
  const workLink = links.body.data[0].id;
  const unlinked = await elsewhere.post(`account/upstream-links/${workLink}/remove`, {
    csrf: field(profile, 'csrf'),
  });
  assert.equal(unlinked.status, 303, await unlinked.clone().text());
  const gone = await admin('GET', `upstream-oauth-links?filter[subject]=alice-work-sub`);
  assert.equal(gone.body.meta.count, 0);
});

test('signing out at the provider ends the sessions begun from it, on Synapse too', async () => {
  // Carol (registered above) signs in to a Matrix client through the provider.
  const browser = new Browser(base);
  const clientUrl = 'https://client.example.org/sso-done';
  const start = await browser.get(
    `_matrix/client/v3/login/sso/redirect/${providerId}?redirectUrl=${encodeURIComponent(clientUrl)}`,
  );
  const toProvider = await browser.get(start.headers.get('location'));
  const answer = await signInUpstream(toProvider.headers.get('location'), { login: 'carol-sub' });
  const completed = await browser.get(answer.url);
  assert.equal(completed.status, 303, await completed.clone().text());
  const signedIn = await browser.get(completed.headers.get('location'));
  assert.equal(signedIn.status, 303, 'carol is linked: signed in at once');
  const consentUrl = new URL(signedIn.headers.get('location'), base);
  const consent = await browser.get(consentUrl);
  const back = await browser.post(consentUrl, { csrf: field(await consent.text(), 'csrf'), action: 'allow' });
  const loginToken = new URL(back.headers.get('location')).searchParams.get('loginToken');
  const login = await fetch(new URL('_matrix/client/v3/login', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'm.login.token', token: loginToken }),
  });
  const session = await login.json();
  assert.equal((await whoami(session.access_token)).status, 200);

  // A forged logout token (signed by nobody) is refused and ends nothing.
  const forged = await fetch(new URL(`upstream/backchannel-logout/${providerId}`, base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJjYXJvbC1zdWIifQ.' }),
  });
  assert.equal(forged.status, 400);
  assert.equal((await forged.json()).error, 'invalid_request');
  assert.equal((await browser.get('account/')).status, 200, 'still signed in');

  // Carol signs out everywhere at the provider: it sends a logout token per session.
  const sent = await op.logoutAccount('carol-sub');
  assert.ok(sent.length > 0, 'the provider sent logout tokens');
  assert.ok(sent.every((entry) => entry.ok), JSON.stringify(sent));
  assert.ok(sent.every((entry) => entry.sid), 'with the session id');

  // logout_all: the browser session ends, and the Matrix session begun from it, whose device
  // Synapse deletes.
  assert.equal((await browser.get('account/')).status, 303, 'signed out of the account pages');
  let status = 200;
  for (let attempt = 0; attempt < 100 && status !== 401; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    status = (await whoami(session.access_token)).status;
  }
  assert.equal(status, 401, 'Synapse still accepts the token of the ended session');
});

/** `/upstream/authorize/{provider}` in `browser`: the authorization URL it sends to. */
async function authorizationUrl(browser, provider) {
  const start = await browser.get(`upstream/authorize/${provider}`);
  assert.equal(start.status, 303, await start.clone().text());
  return new URL(start.headers.get('location'));
}

test('client_secret_basic, form_post, PKCE always and a signed userinfo answer', async () => {
  const browser = new Browser(base);
  const url = await authorizationUrl(browser, KEYCLOAK);
  assert.equal(url.searchParams.get('response_mode'), 'form_post');
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  const answer = await signInUpstream(url, { login: 'iris-sub' });
  assert.equal(answer.kind, 'form_post');
  // The provider's page posts the code to the callback.
  const completed = await browser.post(answer.url, answer.fields);
  assert.equal(completed.status, 303, await completed.clone().text());
  const page = await browser.get(completed.headers.get('location'));
  assert.equal(page.status, 200);
  // The username came from the signed userinfo answer (`userinfo_claims`).
  assert.match(await page.text(), /<strong id="user-id">@iris:localhost<\/strong>/);
});

test('private_key_jwt with this server\'s key, an ES256 ID token and no PKCE', async () => {
  const browser = new Browser(base);
  const url = await authorizationUrl(browser, AUTHENTIK);
  assert.equal(url.searchParams.get('code_challenge'), null, 'pkce_method: never');
  const answer = await signInUpstream(url, { login: 'frank-sub' });
  const completed = await browser.get(answer.url);
  assert.equal(completed.status, 303, await completed.clone().text());
  const page = await browser.get(completed.headers.get('location'));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<strong id="user-id">@frank:localhost<\/strong>/);
});

test('an ID token signed by a key that is not the provider\'s, or with another nonce, is refused', async () => {
  const browser = new Browser(base);
  const answer = await signInUpstream(await authorizationUrl(browser, WRONG_KEYS), { login: 'frank-sub' });
  const refused = await browser.get(answer.url);
  assert.equal(refused.status, 502);
  const html = await refused.text();
  assert.match(html, /the ID token is refused: the signature does not verify/);
  assert.doesNotMatch(html, /upstream\/link\//);

  // The nonce of the request changed on its way to the provider: the ID token carries the
  // changed one, and is refused.
  const tampered = await authorizationUrl(browser, providerId);
  tampered.searchParams.set('nonce', 'a-nonce-of-someone-else');
  const replayed = await signInUpstream(tampered, { login: 'frank-sub' });
  const refusedNonce = await browser.get(replayed.url);
  assert.equal(refusedNonce.status, 502);
  assert.match(await refusedNonce.text(), /the claim `nonce` is `a-nonce-of-someone-else`/);
});

test('in Chromium: the provider button registers a new user, who then finds the link on the account page', async () => {
  const screenshots = process.env.SCREENSHOTS_DIR ? resolve(process.env.SCREENSHOTS_DIR) : null;
  if (screenshots) mkdirSync(screenshots, { recursive: true });
  const shot = async (page, name) => {
    if (screenshots) await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
  };
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(new URL('login', base).href);
    await shot(page, 'login-providers');
    await page.getByRole('link', { name: 'Continue with Pocket ID' }).click();

    // The provider's own pages (oidc-provider's development sign-in and consent).
    await page.waitForURL((url) => url.origin === new URL(op.issuer).origin);
    await page.locator('input[name="login"]').fill('henry-sub');
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').waitFor();
    if (new URL(page.url()).origin === new URL(op.issuer).origin) {
      await page.locator('button[type="submit"]').click();
    }

    // Back here: the registration page built from the claims.
    await page.waitForURL(/\/upstream\/link\//);
    assert.equal(await page.locator('#user-id').textContent(), '@henry:localhost');
    assert.equal(await page.locator('#import-display-name').isChecked(), true);
    await shot(page, 'upstream-register');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/upstream/'));

    // The imported display name reaches the homeserver through the provisioning job.
    let body = '';
    for (let tries = 0; tries < 50 && !body.includes('Henry Jekyll'); tries += 1) {
      if (tries) await new Promise((done) => setTimeout(done, 200));
      await page.goto(new URL('account/', base).href);
      body = await page.locator('body').textContent();
    }
    assert.match(body, /@henry:localhost/);
    assert.match(body, /Henry Jekyll/);
    const linked = page.locator('li', { hasText: 'Pocket ID:' });
    assert.match(await linked.textContent(), /henry-sub/);
    await shot(page, 'account-linked');
  } finally {
    await browser.close();
  }
});

test('a sign-in the visitor cancels at the provider says so', async () => {
  const browser = new Browser(base);
  const start = await browser.get(`upstream/authorize/${providerId}`);
  const answer = await signInUpstream(start.headers.get('location'), { login: 'alice-sub', cancel: true });
  assert.equal(answer.url.searchParams.get('error'), 'access_denied');
  const page = await browser.get(answer.url);
  assert.equal(page.status, 403);
  assert.match(await page.text(), /Sign-in cancelled/);
});

test('an unknown provider is a page, not an error', async () => {
  const page = await new Browser(base).get('upstream/authorize/01ARZ3NDEKTSV4RRFFQ69G5FAV');
  assert.equal(page.status, 404);
  assert.match(await page.text(), /This sign-in method is unavailable/);
});
