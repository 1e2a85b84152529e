// Signing in through an upstream provider: a real OpenID Provider (npm oidc-provider, started
// here on the port interop/run.sh configured as the homelab guide's "Pocket ID": discovery,
// client_secret_post, its three claims templates) and the server as its relying party. The
// provider's pages are driven by upstream-op/signin.mjs, the server's by the tiny Browser.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { startProvider } from '../upstream-op/op.mjs';
import { signIn as signInUpstream } from '../upstream-op/signin.mjs';
import { Browser } from './browser.mjs';

const base = new URL(process.env.BASE_URL);
const providerId = process.env.UPSTREAM_ID;
const adminToken = process.env.ADMIN_TOKEN;
const username = process.env.USERNAME;

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
      },
    ],
    accounts: {
      'alice-sub': {
        preferred_username: username,
        name: 'Alice Liddell',
        email: 'alice@example.com',
        email_verified: true,
      },
      'stranger-sub': { preferred_username: 'stranger', name: 'A Stranger' },
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
async function throughProvider(browser, login) {
  // The sign-in page offers the provider, as the homelab guide says to check.
  const page = await browser.get('login');
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /Continue with Pocket ID/);
  const button = html.match(/href="([^"]*upstream\/authorize\/[^"]*)"/);
  assert.ok(button, 'a button to the provider');
  assert.equal(new URL(button[1].replaceAll('&amp;', '&'), base).pathname, `/upstream/authorize/${providerId}`);
  const start = await browser.get(button[1].replaceAll('&amp;', '&'));
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

test('an account at the provider linked to nobody signs nobody in', async () => {
  const browser = new Browser(base);
  const callback = await throughProvider(browser, 'stranger-sub');
  const completed = await browser.get(callback);
  assert.equal(completed.status, 303);
  const page = await browser.get(completed.headers.get('location'));
  assert.equal(page.status, 403);
  assert.match(await page.text(), /not linked to an account on this server/);
  assert.equal((await browser.get('account/')).status, 303, 'not signed in');
  // The provider's account is recorded, linked to nobody, for a later registration.
  const found = await admin('GET', `upstream-oauth-links?filter[subject]=stranger-sub`);
  assert.equal(found.body.meta.count, 1);
  assert.equal(found.body.data[0].attributes.user_id, null);
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
