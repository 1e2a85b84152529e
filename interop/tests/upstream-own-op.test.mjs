// This server as an upstream provider of another instance of itself: the first server signs
// people in with the second (discovery, client_secret_basic, PKCE, its ID token and userinfo),
// the second with its own password and consent pages. interop/run.sh starts the second one on
// 127.0.0.2 (its cookies apart, as another host's) with a static client for the first and a
// user, grace. Each server gets its own tiny browser, as a browser keeps each host's cookies.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Browser, field, signIn } from './browser.mjs';

const base = new URL(process.env.BASE_URL);
const idp = new URL(process.env.IDP_URL);
const providerId = process.env.IDP_PROVIDER_ID;

test('another Portcullis signs a new user in, who then returns', async () => {
  const here = new Browser(base);
  const there = new Browser(idp);

  const signInThere = async () => {
    const start = await here.get(`upstream/authorize/${providerId}`);
    assert.equal(start.status, 303, await start.clone().text());
    const authorization = new URL(start.headers.get('location'));
    assert.equal(authorization.origin, idp.origin);
    assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
    // The provider's own sign-in (grace's password), then its consent page.
    let response = await there.get(authorization);
    if (response.status === 303 && new URL(response.headers.get('location'), idp).pathname === '/login') {
      response = await signIn(there, response, 'grace', 'grace at the identity provider');
    }
    assert.equal(response.status, 303, await response.clone().text());
    let next = new URL(response.headers.get('location'), idp);
    // The consent page the first time; remembered afterwards, it sends the browser on.
    while (next.origin === idp.origin) {
      const consent = await there.get(next);
      if (consent.status === 303) {
        next = new URL(consent.headers.get('location'), idp);
        continue;
      }
      assert.equal(consent.status, 200, await consent.clone().text());
      const allowed = await there.post(next, { csrf: field(await consent.text(), 'csrf'), action: 'allow' });
      assert.equal(allowed.status, 303, await allowed.clone().text());
      next = new URL(allowed.headers.get('location'), idp);
    }
    assert.equal(next.pathname, `/upstream/callback/${providerId}`);
    const completed = await here.get(next);
    assert.equal(completed.status, 303, await completed.clone().text());
    return here.get(completed.headers.get('location'));
  };

  // First time: registered from the provider's userinfo (its `username`).
  const page = await signInThere();
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /Create your account with Another Portcullis/);
  assert.match(html, /<strong id="user-id">@grace:localhost<\/strong>/);
  const created = await here.post(page.url, { csrf: field(html, 'csrf'), action: 'register' });
  assert.equal(created.status, 303, await created.clone().text());
  assert.match(await (await here.get('account/')).text(), /@grace:localhost/);

  // Signed out here, grace comes back through the provider and is signed straight in.
  const account = await (await here.get('account/')).text();
  const out = await here.post('logout', { csrf: field(account, 'csrf') });
  assert.ok([200, 303].includes(out.status), `logout answered ${out.status}`);
  assert.equal((await here.get('account/')).status, 303, 'signed out');
  const again = await signInThere();
  assert.equal(again.status, 303, await again.clone().text());
  assert.match(await (await here.get('account/')).text(), /@grace:localhost/);
});
