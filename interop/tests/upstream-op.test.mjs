// The upstream OpenID Provider of interop/upstream-op (oidc-provider, from npm) and its headless
// sign-in, checked with openid-client as the relying party, without Portcullis: what the tests
// of Portcullis as a relying party build on. Discovery; the authorization code flow with PKCE
// and nonce, for client_secret_basic, client_secret_post with response_mode=form_post, and
// private_key_jwt with an ES256 ID token and a signed userinfo answer; the pkce option; a
// cancelled sign-in; and back-channel logout, from the browser's end_session and from the
// provider's side.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createPublicKey, verify } from 'node:crypto';
import * as client from 'openid-client';

import { startProvider } from '../upstream-op/op.mjs';
import { CookieJar, signIn } from '../upstream-op/signin.mjs';

const secret = 'a client secret of upstream-op.test.mjs, 32 bytes or more';
// The redirect URIs are never fetched: signIn() stops at them and hands back the answer.
const redirectUri = 'http://127.0.0.1:9/callback';
const insecure = { execute: [client.allowInsecureRequests] };

/**
 * A relying party's back-channel logout endpoint (OpenID Connect Back-Channel Logout 1.0): it
 * records each logout_token it is sent and answers 200, as the specification asks.
 */
async function startLogoutReceiver() {
  const tokens = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      tokens.push({ method: req.method, contentType: req.headers['content-type'], params: new URLSearchParams(body) });
      res.statusCode = 200;
      res.setHeader('cache-control', 'no-store');
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    uri: `http://127.0.0.1:${server.address().port}/backchannel-logout`,
    tokens,
    close: () => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }),
  };
}

/** Verifies an RS256 JWT against the provider's JWKS (node:crypto only) and returns its parts. */
async function verifyJwt(jwt, jwksUri) {
  const [header, payload, signature] = jwt.split('.');
  const decoded = JSON.parse(Buffer.from(header, 'base64url'));
  assert.equal(decoded.alg, 'RS256');
  const { keys } = await (await fetch(jwksUri)).json();
  const jwk = keys.find((key) => key.kid === decoded.kid);
  assert.ok(jwk, `no key ${decoded.kid} in the provider's JWKS`);
  const valid = verify('sha256', Buffer.from(`${header}.${payload}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature, 'base64url'));
  assert.ok(valid, 'the signature does not verify');
  return { header: decoded, claims: JSON.parse(Buffer.from(payload, 'base64url')) };
}

/** An authorization URL with PKCE S256, state and nonce, and what to check the answer with. */
async function authorizationRequest(config, parameters = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const checks = {
    pkceCodeVerifier: verifier,
    expectedState: client.randomState(),
    expectedNonce: client.randomNonce(),
    idTokenExpected: true,
  };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: checks.expectedState,
    nonce: checks.expectedNonce,
    ...parameters,
  });
  return { url, checks };
}

// One provider for the file, with a client per authentication method; the pkce test starts its
// own, since that option is the provider's.
const clientKeys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
const clientJwk = { ...(await crypto.subtle.exportKey('jwk', clientKeys.publicKey)), kid: 'rp-key-1', alg: 'ES256', use: 'sig' };
delete clientJwk.key_ops;
delete clientJwk.ext;

let op;
let receiver;

before(async () => {
  receiver = await startLogoutReceiver();
  op = await startProvider({
    clients: [
      { client_id: 'basic', client_secret: secret, redirect_uris: [redirectUri], token_endpoint_auth_method: 'client_secret_basic' },
      { client_id: 'post', client_secret: secret, redirect_uris: [redirectUri], token_endpoint_auth_method: 'client_secret_post' },
      {
        client_id: 'jwt',
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [clientJwk] },
        id_token_signed_response_alg: 'ES256',
        userinfo_signed_response_alg: 'RS256',
      },
      {
        client_id: 'logout',
        client_secret: secret,
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'client_secret_basic',
        backchannel_logout_uri: receiver.uri,
        backchannel_logout_session_required: true,
      },
    ],
  });
});

after(async () => {
  await op?.close();
  await receiver?.close();
});

test('discovery describes the provider and its features', async () => {
  const config = await client.discovery(new URL(op.issuer), 'basic', secret, client.ClientSecretBasic(), insecure);
  const metadata = config.serverMetadata();
  assert.equal(metadata.issuer, op.issuer);
  assert.equal(metadata.authorization_endpoint, `${op.issuer}/auth`);
  assert.deepEqual(metadata.response_types_supported, ['code']);
  assert.ok(metadata.response_modes_supported.includes('form_post'));
  assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
  for (const method of ['none', 'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt']) {
    assert.ok(metadata.token_endpoint_auth_methods_supported.includes(method), method);
  }
  for (const scope of ['openid', 'profile', 'email']) assert.ok(metadata.scopes_supported.includes(scope), scope);
  assert.ok(metadata.userinfo_signing_alg_values_supported.includes('RS256'));
  assert.equal(metadata.backchannel_logout_supported, true);
  assert.equal(metadata.backchannel_logout_session_supported, true);
  assert.equal(metadata.end_session_endpoint, `${op.issuer}/session/end`);

  // The keys generated at start: one RSA and one EC signing key, public parts only.
  const { keys } = await (await fetch(metadata.jwks_uri)).json();
  assert.deepEqual(keys.map((key) => key.kty).sort(), ['EC', 'RSA']);
  assert.ok(keys.every((key) => key.d === undefined));
});

test('code flow with PKCE and nonce, client_secret_basic, query response mode', async () => {
  const config = await client.discovery(new URL(op.issuer), 'basic', secret, client.ClientSecretBasic(), insecure);
  const { url, checks } = await authorizationRequest(config);

  const answer = await signIn(url, { login: 'alice-sub' });
  assert.equal(answer.kind, 'redirect');
  assert.equal(answer.url.origin + answer.url.pathname, redirectUri);
  assert.equal(answer.params.get('iss'), op.issuer); // RFC 9207
  assert.ok(answer.params.get('code'));

  // openid-client checks state, iss, PKCE, and the ID token: signature against the JWKS, iss,
  // aud, exp, nonce.
  const tokens = await client.authorizationCodeGrant(config, answer.url, checks);
  const claims = tokens.claims();
  assert.equal(claims.sub, 'alice-sub');
  assert.equal(claims.email, 'alice@example.com');
  assert.equal(claims.email_verified, true);
  assert.equal(claims.preferred_username, 'alice');
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.deepEqual(
    { sub: userinfo.sub, email: userinfo.email, name: userinfo.name },
    { sub: 'alice-sub', email: 'alice@example.com', name: 'Alice Liddell' },
  );

  // A code is good once.
  await assert.rejects(client.authorizationCodeGrant(config, answer.url, checks), { error: 'invalid_grant' });
});

test('response_mode=form_post and client_secret_post', async () => {
  const config = await client.discovery(new URL(op.issuer), 'post', secret, client.ClientSecretPost(), insecure);
  const { url, checks } = await authorizationRequest(config, { response_mode: 'form_post', scope: 'openid email' });

  const answer = await signIn(url, { login: 'bob-sub' });
  assert.equal(answer.kind, 'form_post');
  assert.equal(answer.method, 'POST');
  assert.equal(answer.url.href, redirectUri);
  assert.match(answer.html, /<form method="post"/);
  assert.deepEqual(Object.keys(answer.fields).sort(), ['code', 'iss', 'state']);
  assert.equal(answer.fields.state, checks.expectedState);

  // What the browser would POST to the redirect URI, read as openid-client reads a form_post.
  const tokens = await client.authorizationCodeGrant(config, answer.request(), checks);
  const claims = tokens.claims();
  assert.equal(claims.sub, 'bob-sub');
  assert.equal(claims.email, 'bob@example.com');
  assert.equal(claims.email_verified, false);
  // Only the scopes asked for: no profile claims.
  assert.equal(claims.name, undefined);
});

test('private_key_jwt, an ES256 ID token and a signed userinfo answer', async () => {
  const config = await client.discovery(
    new URL(op.issuer),
    'jwt',
    { id_token_signed_response_alg: 'ES256', userinfo_signed_response_alg: 'RS256' },
    client.PrivateKeyJwt({ key: clientKeys.privateKey, kid: clientJwk.kid }),
    insecure,
  );
  // openid-client then also verifies the signature of the userinfo JWT against the JWKS.
  client.enableNonRepudiationChecks(config);
  const { url, checks } = await authorizationRequest(config);

  const answer = await signIn(url, { login: 'alice-sub' });
  const tokens = await client.authorizationCodeGrant(config, answer.url, checks);
  const [header] = tokens.id_token.split('.');
  assert.equal(JSON.parse(Buffer.from(header, 'base64url')).alg, 'ES256');
  assert.equal(tokens.claims().sub, 'alice-sub');

  // The userinfo answer is a JWT (application/jwt), from the provider to this client.
  const response = await fetch(config.serverMetadata().userinfo_endpoint, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  assert.equal(response.headers.get('content-type').split(';')[0], 'application/jwt');
  const { claims: signed } = await verifyJwt(await response.text(), config.serverMetadata().jwks_uri);
  assert.equal(signed.iss, op.issuer);
  assert.equal(signed.aud, 'jwt');
  assert.equal(signed.email, 'alice@example.com');

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, 'alice-sub');
  assert.equal(userinfo.preferred_username, 'alice');

  // A client assertion signed with another key is refused.
  const otherKeys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const impostor = await client.discovery(
    new URL(op.issuer), 'jwt', undefined, client.PrivateKeyJwt({ key: otherKeys.privateKey, kid: clientJwk.kid }), insecure,
  );
  const second = await authorizationRequest(impostor);
  const again = await signIn(second.url, { login: 'alice-sub' });
  await assert.rejects(client.authorizationCodeGrant(impostor, again.url, second.checks), { error: 'invalid_client' });
});

test('the pkce option: always and never', async () => {
  const publicClient = { client_id: 'public', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' };
  const confidential = { client_id: 'confidential', client_secret: secret, redirect_uris: [redirectUri] };

  // 'always': even a confidential client must send a code_challenge; the refusal goes back to
  // the redirect URI (the client and its redirect URI are known).
  const strict = await startProvider({ clients: [confidential], pkce: 'always' });
  try {
    const config = await client.discovery(new URL(strict.issuer), 'confidential', secret, client.ClientSecretBasic(), insecure);
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', state: 'st' });
    const answer = await signIn(url, { login: 'alice-sub' });
    assert.equal(answer.params.get('error'), 'invalid_request');
    assert.match(answer.params.get('error_description'), /PKCE/);
    assert.equal(answer.params.get('state'), 'st');
  } finally {
    await strict.close();
  }

  // 'never': a public client without PKCE gets its tokens (oidc-provider's default refuses it).
  const lax = await startProvider({ clients: [publicClient], pkce: 'never' });
  try {
    const config = await client.discovery(new URL(lax.issuer), 'public', undefined, client.None(), insecure);
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', nonce });
    const answer = await signIn(url, { login: 'alice-sub' });
    const tokens = await client.authorizationCodeGrant(config, answer.url, { expectedNonce: nonce, idTokenExpected: true });
    assert.equal(tokens.claims().sub, 'alice-sub');
  } finally {
    await lax.close();
  }
});

test('a cancelled sign-in answers access_denied', async () => {
  const config = await client.discovery(new URL(op.issuer), 'basic', secret, client.ClientSecretBasic(), insecure);
  const { url, checks } = await authorizationRequest(config);
  const answer = await signIn(url, { cancel: true });
  assert.equal(answer.params.get('error'), 'access_denied');
  assert.equal(answer.params.get('state'), checks.expectedState);
});

test('back-channel logout, from end_session and from the provider', async () => {
  const config = await client.discovery(new URL(op.issuer), 'logout', secret, client.ClientSecretBasic(), insecure);

  /** Signs alice in to the `logout` client with `jar`; resolves to the ID token's claims. */
  async function signedIn(jar) {
    const { url, checks } = await authorizationRequest(config);
    const answer = await signIn(url, { login: 'alice-sub', jar });
    const tokens = await client.authorizationCodeGrant(config, answer.url, checks);
    return { idToken: tokens.id_token, claims: tokens.claims() };
  }

  /** The logout token the receiver got `index`-th, checked as a relying party must (section 2.6). */
  async function logoutToken(index, { sid }) {
    const received = receiver.tokens[index];
    assert.equal(received.method, 'POST');
    assert.equal(received.contentType, 'application/x-www-form-urlencoded');
    const { header, claims } = await verifyJwt(received.params.get('logout_token'), config.serverMetadata().jwks_uri);
    assert.equal(header.typ, 'logout+jwt');
    assert.equal(claims.iss, op.issuer);
    assert.equal(claims.aud, 'logout');
    assert.equal(claims.sub, 'alice-sub');
    assert.equal(claims.sid, sid);
    assert.deepEqual(claims.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
    assert.ok(claims.jti && claims.iat);
    assert.equal(claims.nonce, undefined);
  }

  // 1. The user signs out at the provider (RP-initiated logout with the browser's cookies).
  const jar = new CookieJar();
  const first = await signedIn(jar);
  assert.ok(first.claims.sid, 'backchannel_logout_session_required puts sid in the ID token');
  const ended = await op.endSession(jar, { id_token_hint: first.idToken });
  assert.equal(ended.location.href, `${op.issuer}/session/end/success`);
  assert.deepEqual(ended.backchannel.map(({ clientId, sub, sid, ok }) => ({ clientId, sub, sid, ok })), [
    { clientId: 'logout', sub: 'alice-sub', sid: first.claims.sid, ok: true },
  ]);
  assert.equal(receiver.tokens.length, 1);
  await logoutToken(0, { sid: first.claims.sid });

  // The session is gone: the next authorization asks to sign in again.
  const { url } = await authorizationRequest(config);
  const login = await jar.fetch(url);
  assert.equal(login.status, 303);
  assert.match(login.headers.get('location'), /\/interaction\//);
  const page = await jar.fetch(new URL(login.headers.get('location'), url));
  assert.match(await page.text(), /name="login"/);

  // 2. The provider ends the user's sessions itself, with no browser.
  const second = await signedIn(new CookieJar());
  assert.notEqual(second.claims.sid, first.claims.sid);
  const sent = await op.logoutAccount('alice-sub');
  assert.deepEqual(sent.map(({ sid, ok }) => ({ sid, ok })), [{ sid: second.claims.sid, ok: true }]);
  assert.equal(receiver.tokens.length, 2);
  await logoutToken(1, { sid: second.claims.sid });

  // 3. A hand-made logout token, for a test that posts it itself.
  const made = await op.logoutToken({ clientId: 'logout', sub: 'alice-sub', sid: 'some-sid' });
  assert.equal((await verifyJwt(made, config.serverMetadata().jwks_uri)).claims.sid, 'some-sid');
});
