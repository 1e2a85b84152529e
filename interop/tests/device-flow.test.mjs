// The device authorization grant (RFC 8628, Matrix QR login), driven by openid-client against
// the real server: a public native client registered dynamically starts the grant and polls the
// token endpoint while the user types the code at /link, signs in and approves in a browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';

import { Browser, field } from './browser.mjs';

const base = new URL(process.env.BASE_URL);
const username = process.env.USERNAME;
const password = process.env.PASSWORD;
const homeserverSecret = process.env.HOMESERVER_SECRET;
const synapse = new URL(process.env.SYNAPSE_URL);

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

/// What the user does on their phone or laptop: types the code at the verification URI, signs
/// in, checks the code shown next to the application's name, and approves.
async function approveInBrowser(verificationUri, userCode) {
  const browser = new Browser(base);
  const link = new URL(verificationUri);
  link.searchParams.set('code', userCode);
  const toDevice = await browser.get(link);
  assert.equal(toDevice.status, 303);
  const toLogin = await browser.get(toDevice.headers.get('location'));
  assert.equal(toLogin.status, 303);
  const loginUrl = new URL(toLogin.headers.get('location'), base);
  const form = await browser.get(loginUrl);
  const signedIn = await browser.post(loginUrl, {
    csrf: field(await form.text(), 'csrf'),
    username,
    password,
  });
  assert.equal(signedIn.status, 303);
  const consentUrl = new URL(signedIn.headers.get('location'), base);
  const consentPage = await browser.get(consentUrl);
  assert.equal(consentPage.status, 200);
  const html = await consentPage.text();
  assert.ok(html.includes(userCode), 'the approval page shows the code to compare');
  const done = await browser.post(consentUrl, { csrf: field(html, 'csrf'), action: 'allow' });
  assert.equal(done.status, 200);
}

test('the device authorization grant works end to end with openid-client', async () => {
  const config = await client.dynamicClientRegistration(
    base,
    {
      client_name: 'Interop TV',
      client_uri: 'https://interop.example.org/',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    },
    client.None(),
    { execute: [client.allowInsecureRequests] },
  );
  assert.equal(
    config.serverMetadata().device_authorization_endpoint,
    new URL('oauth2/device', base).href,
  );

  const scope = 'openid urn:matrix:client:api:* urn:matrix:client:device:INTEROPTV01';
  const started = await client.initiateDeviceAuthorization(config, { scope });
  assert.match(started.user_code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  assert.equal(started.verification_uri, new URL('link', base).href);
  assert.equal(started.interval, 5);
  assert.ok(started.expires_in > 0);

  // openid-client waits one interval before its first poll; the user approves meanwhile.
  const polling = client.pollDeviceAuthorizationGrant(config, started);
  await approveInBrowser(started.verification_uri, started.user_code);
  const tokens = await polling;

  // openid-client checked the ID token: signature against the JWKS, iss, aud, exp, at_hash.
  const claims = tokens.claims();
  assert.ok(claims.sub);
  assert.ok(tokens.access_token.startsWith('mat_'));
  assert.ok(tokens.refresh_token.startsWith('mar_'));

  const asHomeserver = await introspectAsHomeserver(tokens.access_token);
  assert.equal(asHomeserver.active, true);
  assert.equal(asHomeserver.username, username);
  assert.match(asHomeserver.scope, /urn:matrix:client:device:INTEROPTV01/);

  // The device exists on Synapse before the token is handed out, so the token works there.
  const onSynapse = await fetch(new URL('_matrix/client/v3/account/whoami', synapse), {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  assert.equal(onSynapse.status, 200);
  const identity = await onSynapse.json();
  assert.equal(identity.user_id, `@${username}:localhost`);
  assert.equal(identity.device_id, 'INTEROPTV01');

  // The device code is spent: polling with it again is refused.
  await assert.rejects(
    client.pollDeviceAuthorizationGrant(config, started),
    (error) => error.error === 'invalid_grant',
  );
});
