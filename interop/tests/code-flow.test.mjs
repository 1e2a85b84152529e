// The authorization code flow with PKCE, driven by openid-client against the real server:
// discovery, dynamic registration, authorization (login and consent submitted as forms),
// code exchange with ID token validation against the JWKS, userinfo, refresh, introspection
// (as a client and as the homeserver), and revocation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';

import { Browser, field, signIn } from './browser.mjs';

const base = new URL(process.env.BASE_URL);
const username = process.env.USERNAME;
const password = process.env.PASSWORD;
const homeserverSecret = process.env.HOMESERVER_SECRET;
const synapse = new URL(process.env.SYNAPSE_URL);

/** `GET /account/whoami` on Synapse with `token`: the HTTP status and the JSON body. */
async function whoami(token) {
  const response = await fetch(new URL('_matrix/client/v3/account/whoami', synapse), {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: await response.json() };
}
const redirectUri = 'https://interop.example.org/callback';

async function introspectAsHomeserver(token) {
  const response = await fetch(new URL('oauth2/introspect', base), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${homeserverSecret}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  });
  assert.equal(response.status, 200);
  return response.json();
}

test('the authorization code flow works end to end with openid-client', async () => {
  const config = await client.dynamicClientRegistration(
    base,
    {
      client_name: 'Interop test',
      client_uri: 'https://interop.example.org/',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    client.ClientSecretBasic(),
    { execute: [client.allowInsecureRequests] },
  );

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email urn:matrix:client:api:* urn:matrix:client:device:INTEROPDEVICE',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const browser = new Browser(base);
  const toLogin = await browser.get(authorizationUrl);
  assert.equal(toLogin.status, 303);
  const toConsent = await signIn(browser, toLogin, username, password);
  assert.equal(toConsent.status, 303);
  const consentUrl = new URL(toConsent.headers.get('location'), base);
  const consentPage = await browser.get(consentUrl);
  assert.equal(consentPage.status, 200);
  const back = await browser.post(consentUrl, { csrf: field(await consentPage.text(), 'csrf'), action: 'allow' });
  assert.equal(back.status, 303);
  const callback = new URL(back.headers.get('location'));
  assert.equal(callback.origin + callback.pathname, redirectUri);

  // openid-client checks state, iss (RFC 9207), the code exchange, PKCE, and the ID token
  // (signature against the JWKS, iss, aud, exp, nonce).
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.ok(claims.sub);
  assert.ok(tokens.access_token.startsWith('mat_'));
  assert.ok(tokens.refresh_token.startsWith('mar_'));

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(userinfo.username, username);

  const asClient = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(asClient.active, true);
  const asHomeserver = await introspectAsHomeserver(tokens.access_token);
  assert.equal(asHomeserver.active, true);
  assert.equal(asHomeserver.username, username);
  assert.match(asHomeserver.scope, /urn:matrix:client:device:INTEROPDEVICE/);
  assert.ok(asHomeserver.expires_in > 0);

  // Synapse asks us about the token and finds the user and the device we created there.
  const onSynapse = await whoami(tokens.access_token);
  assert.equal(onSynapse.status, 200);
  assert.equal(onSynapse.body.user_id, `@${username}:localhost`);
  assert.equal(onSynapse.body.device_id, 'INTEROPDEVICE');

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  assert.equal((await introspectAsHomeserver(refreshed.access_token)).active, true);

  assert.equal((await whoami(refreshed.access_token)).status, 200);

  await client.tokenRevocation(config, refreshed.access_token);
  assert.equal((await introspectAsHomeserver(refreshed.access_token)).active, false);

  // Synapse caches introspection answers for two minutes; the device's deletion, queued by the
  // revocation, is what ends the token there. The worker does it within seconds.
  let status = 200;
  for (let attempt = 0; attempt < 100 && status !== 401; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    ({ status } = await whoami(refreshed.access_token));
  }
  assert.equal(status, 401, 'Synapse still accepts the revoked token');
});
