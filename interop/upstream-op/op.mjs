// A real upstream OpenID Provider for the interoperability tests: panva's oidc-provider (from
// npm, OpenID Certified), run in-process on a free port of 127.0.0.1 over plain HTTP, so that a
// test can have Portcullis sign users in with it as a relying party ("upstream OAuth 2.0
// providers", as in MAS). Its clients are registered statically, its accounts are a map of
// claims, its keys are generated at start, and its storage is a Map of this module: nothing is
// fetched from the internet and nothing outlives close().
//
// The sign-in pages are oidc-provider's own development pages (features.devInteractions): any
// login is accepted as the account id, with any password. signin.mjs drives them.

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import { CookieJar, parseForms } from './signin.mjs';

/** The accounts when none are given: sub -> claims (a subset of OpenID Connect's standard ones). */
export const DEFAULT_ACCOUNTS = {
  'alice-sub': {
    email: 'alice@example.com',
    email_verified: true,
    preferred_username: 'alice',
    name: 'Alice Liddell',
    given_name: 'Alice',
    family_name: 'Liddell',
  },
  'bob-sub': {
    email: 'bob@example.com',
    email_verified: false,
    preferred_username: 'bob',
    name: 'Bob',
  },
};

/**
 * The client registered when none are given. Its redirect URI goes nowhere: a test that uses it
 * reads the code from signIn()'s result and never follows the redirect. The secret is long enough
 * for client_secret_jwt (HS256 wants at least 32 bytes).
 */
export const DEFAULT_CLIENT = Object.freeze({
  client_id: 'test-client',
  client_secret: 'test-client-secret-0123456789abcdef0123456789abcdef',
  redirect_uris: ['http://127.0.0.1/callback'],
  token_endpoint_auth_method: 'client_secret_basic',
  response_types: ['code'],
  grant_types: ['authorization_code'],
});

/** The standard claims of each scope (OpenID Connect Core 1.0, section 5.4). */
const SCOPE_CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: [
    'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username',
    'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
  ],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};

/**
 * oidc-provider's storage, one Map per provider instead of its process-wide development LRU (which
 * warns at start, and would mix the state of two providers). It implements the adapter interface
 * (upsert, find, findByUid, findByUserCode, consume, destroy, revokeByGrantId) for one model
 * (Session, Grant, AuthorizationCode, AccessToken, Interaction...), and lets this module list the
 * sessions of an account for logoutAccount().
 */
function memoryAdapter(store) {
  const live = (key) => {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry;
  };
  return (model) => ({
    async upsert(id, payload, expiresIn) {
      const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
      store.set(`${model}:${id}`, { model, id, payload, expiresAt });
    },
    async find(id) {
      return live(`${model}:${id}`)?.payload;
    },
    async findByUid(uid) {
      for (const key of store.keys()) {
        const entry = live(key);
        if (entry?.model === model && entry.payload.uid === uid) return entry.payload;
      }
      return undefined;
    },
    async findByUserCode(userCode) {
      for (const key of store.keys()) {
        const entry = live(key);
        if (entry?.model === model && entry.payload.userCode === userCode) return entry.payload;
      }
      return undefined;
    },
    async consume(id) {
      const entry = live(`${model}:${id}`);
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    },
    async destroy(id) {
      store.delete(`${model}:${id}`);
    },
    async revokeByGrantId(grantId) {
      for (const [key, entry] of store) {
        if (entry.model === model && entry.payload.grantId === grantId) store.delete(key);
      }
    },
  });
}

/**
 * A fresh signing key pair as an RFC 7517 JWK, private part included (oidc-provider signs with
 * it): 'RS256' (RSA 2048) or 'ES256' (P-256). node:crypto only.
 */
export function generateSigningKey(alg) {
  const { privateKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `${alg.toLowerCase()}-${randomUUID()}`, alg, use: 'sig' };
}

/** `pkce` option -> oidc-provider's pkce.required (a function of the request and the client). */
function pkceRequired(pkce) {
  switch (pkce) {
    case undefined:
    case 'public':
      // oidc-provider's default (outside FAPI): required of public clients (auth method none)
      // only. Written out here because its own default has nothing to configure.
      return (_ctx, client) => client.clientAuthMethod === 'none';
    case true:
    case 'always':
      return () => true;
    case false:
    case 'never':
      // A code_challenge that is sent is still checked against the code_verifier.
      return () => false;
    default:
      if (typeof pkce === 'function') return pkce;
      throw new TypeError(`pkce must be 'public', 'always', 'never', a boolean or a function, not ${pkce}`);
  }
}

/**
 * oidc-provider prints "oidc-provider WARNING/NOTICE" lines for its development-only parts, which
 * are what a test wants: on Node.js 20 "Unsupported runtime. Use Node.js v22.x LTS" (at import;
 * it runs fine), "devInteractions is enabled" (at construction). Every function whose default
 * prints a NOTICE when first called (ttl.*, renderError, the logout pages, clientBasedCORS) is
 * configured below, and the storage is ours, so those print nothing. This hides what remains,
 * only while the module is imported and the provider constructed, and only lines with that
 * prefix. `quiet: false` shows them.
 */
let hushed = 0;
let consoleWarn;
let consoleInfo;
async function hush(quiet, run) {
  if (!quiet) return run();
  if (hushed++ === 0) {
    consoleWarn = console.warn;
    consoleInfo = console.info;
    const notice = /^(\x1b\[[\d;]*m)?oidc-provider (WARNING|NOTICE): /;
    console.warn = (...args) => { if (!notice.test(String(args[0]))) consoleWarn(...args); };
    console.info = (...args) => { if (!notice.test(String(args[0]))) consoleInfo(...args); };
  }
  try {
    return await run();
  } finally {
    if (--hushed === 0) {
      console.warn = consoleWarn;
      console.info = consoleInfo;
    }
  }
}

/** A bare page for the few pages that are not the development interaction views. */
function page(title, body) {
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>`
    + `<body><h1>${title}</h1>${body}</body></html>`;
}

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Starts an OpenID Provider on http://127.0.0.1:{free port}. Options, all optional:
 * - `clients`: oidc-provider client metadata, registered statically (client_id, client_secret,
 *   redirect_uris, token_endpoint_auth_method: none, client_secret_basic, client_secret_post,
 *   client_secret_jwt or private_key_jwt with jwks or jwks_uri, id_token_signed_response_alg,
 *   userinfo_signed_response_alg, backchannel_logout_uri, backchannel_logout_session_required...).
 *   response_types ['code'] and grant_types ['authorization_code'] are the defaults.
 *   Default: [DEFAULT_CLIENT].
 * - `accounts`: { sub: claims } or a Map; any claim of the granted scopes (openid, profile,
 *   email, address, phone) is released. Default: DEFAULT_ACCOUNTS.
 * - `pkce`: when a code_challenge is required: 'public' (the default, as oidc-provider: clients
 *   with token_endpoint_auth_method none), 'always', 'never' (true and false are the same as the
 *   last two), or oidc-provider's function (ctx, client) => boolean.
 * - `conformIdTokenClaims`: oidc-provider's option of that name. Default false: the ID token
 *   carries the claims of the granted scopes (email, preferred_username...) as many providers'
 *   do, and as a relying party that reads them there needs; true keeps them to userinfo only
 *   when an access token is issued too (strict OpenID Connect Core 5.4).
 * - `idTokenTTL`, `accessTokenTTL`, `sessionTTL`: seconds (default 3600 each).
 * - `port`: the port to listen on, 127.0.0.1 always. Default 0, a free one; a fixed one lets a
 *   relying party be configured with the issuer before the provider starts.
 * - `jwks`: the private JWKS to sign with (e.g. the same keys across restarts on a fixed port,
 *   for a relying party that caches them). Default: a fresh RS256 key, then a fresh ES256 key
 *   (generateSigningKey).
 * - `configuration`: more oidc-provider configuration, merged over this module's (top level
 *   keys replace, except `features` whose keys are merged).
 * - `quiet`: hide oidc-provider's development-only warnings (default true).
 *
 * Resolves to:
 *   { issuer: 'http://127.0.0.1:PORT' (no trailing slash; discovery is
 *       `${issuer}/.well-known/openid-configuration`),
 *     port, url(path) -> URL on the provider,
 *     provider: the oidc-provider instance (events, Client.find...),
 *     accounts: the live Map sub -> claims (add accounts, change claims between sign-ins),
 *     clients: the client metadata as registered,
 *     backchannelLogouts: every back-channel logout attempt so far,
 *       [{ clientId, sub, sid, ok: boolean, error?: Error }], in order,
 *     endSession(jar, params) / logoutAccount(sub) / logoutToken(params) /
 *     sendLogoutToken(params): see below,
 *     close() }
 */
export async function startProvider(options = {}) {
  const {
    clients = [DEFAULT_CLIENT],
    accounts: accountOption = DEFAULT_ACCOUNTS,
    pkce,
    conformIdTokenClaims = false,
    idTokenTTL = 3600,
    accessTokenTTL = 3600,
    sessionTTL = 3600,
    port: requestedPort = 0,
    jwks = { keys: [generateSigningKey('RS256'), generateSigningKey('ES256')] },
    configuration: extra = {},
    quiet = true,
  } = options;

  const accounts = accountOption instanceof Map ? accountOption : new Map(Object.entries(accountOption));
  const store = new Map();

  // The issuer has the port in it, so listen first and hand requests to the provider once it
  // exists.
  let handler = (_req, res) => { res.statusCode = 503; res.end(); };
  const server = createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(requestedPort, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  const configuration = {
    clients: clients.map((client) => ({ ...client })),
    adapter: memoryAdapter(store),
    // By default fresh keys for every provider: RS256 first, the default algorithm of ID tokens,
    // signed userinfo and logout tokens; ES256 for clients that register it.
    jwks,
    // Cookie signing keys (without any, oidc-provider sets unsigned cookies).
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    async findAccount(_ctx, sub) {
      if (!accounts.has(sub)) return undefined;
      return {
        accountId: sub,
        // oidc-provider keeps only the claims of the granted scopes and the claims parameter.
        async claims() {
          return { ...accounts.get(sub), sub };
        },
      };
    },
    claims: SCOPE_CLAIMS,
    scopes: ['openid', 'offline_access', ...Object.keys(SCOPE_CLAIMS).filter((s) => s !== 'openid')],
    conformIdTokenClaims,
    responseTypes: ['code'],
    pkce: { required: pkceRequired(pkce) },
    features: {
      devInteractions: { enabled: true },
      userinfo: { enabled: true },
      // Signed userinfo answers (application/jwt) for clients that register
      // userinfo_signed_response_alg; plain JSON for the others.
      jwtUserinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page('Sign out', `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>`
            + '<button type="submit" form="op.logoutForm">No, stay signed in</button>');
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = page('Signed out', '<p>You are signed out.</p>');
        },
      },
      ...extra.features,
    },
    ttl: {
      AccessToken: accessTokenTTL,
      AuthorizationCode: 60,
      IdToken: idTokenTTL,
      Interaction: 600,
      Session: sessionTTL,
      Grant: sessionTTL,
      RefreshToken: 24 * 3600,
      ClientCredentials: 600,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', Object.entries(out)
        .map(([key, value]) => `<pre><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</pre>`).join(''));
    },
    clientBasedCORS: () => false,
    // oidc-provider's outgoing requests (back-channel logout tokens, a client's jwks_uri) refuse
    // special-use addresses, 127.0.0.0/8 included, against SSRF: its fetch is given an undici
    // dispatcher that destroys such sockets. Every relying party here is on 127.0.0.1, so drop
    // that dispatcher and use the global one.
    fetch: (url, { dispatcher: _ssrfGuard, ...init }) => globalThis.fetch(url, init),
    ...Object.fromEntries(Object.entries(extra).filter(([key]) => key !== 'features')),
  };

  const { default: Provider } = await hush(quiet, () => import('oidc-provider'));
  const provider = await hush(quiet, () => new Provider(issuer, configuration));
  // Plain HTTP straight from the test: no reverse proxy whose X-Forwarded-* headers to trust.
  provider.proxy = false;
  // A bug here or in a test's configuration should be seen, not only answered with a 500.
  provider.on('server_error', (_ctx, error) => console.error('upstream OP server_error:', error));
  handler = provider.callback();

  const backchannelLogouts = [];
  provider.on('backchannel.success', (_ctx, client, sub, sid) => {
    backchannelLogouts.push({ clientId: client.clientId, sub, sid, ok: true });
  });
  provider.on('backchannel.error', (_ctx, error, client, sub, sid) => {
    backchannelLogouts.push({ clientId: client.clientId, sub, sid, ok: false, error });
  });

  const url = (path) => new URL(path.replace(/^\//, ''), `${issuer}/`);

  async function findClient(clientId) {
    const client = await provider.Client.find(clientId);
    if (!client) throw new Error(`no client ${clientId} at the upstream OP`);
    return client;
  }

  return {
    issuer,
    port,
    url,
    provider,
    accounts,
    clients: configuration.clients,
    backchannelLogouts,

    /**
     * RP-initiated logout as the signed-in browser does it: GET the end_session endpoint with the
     * cookies of `jar` (the CookieJar that signIn() used), then submit its confirmation form,
     * "Yes, sign me out" unless `everywhere` is false. oidc-provider sends the back-channel logout
     * tokens to the session's clients that registered backchannel_logout_uri (all of them, or
     * only the client of the request when `everywhere` is false) before it answers, so they have
     * all arrived, or failed, when this resolves.
     * `params`: { id_token_hint, client_id, post_logout_redirect_uri, state, everywhere = true }.
     * Resolves to { location: URL (post_logout_redirect_uri?state=, or the provider's "signed
     * out" page), backchannel: the entries of backchannelLogouts that this logout added }.
     */
    async endSession(jar, { everywhere = true, ...params } = {}) {
      const before = backchannelLogouts.length;
      const endpoint = url('session/end');
      for (const [key, value] of Object.entries(params)) {
        if (value !== undefined) endpoint.searchParams.set(key, value);
      }
      const prompt = await jar.fetch(endpoint);
      const html = await prompt.text();
      if (prompt.status !== 200) throw new Error(`end_session answered ${prompt.status}:\n${html}`);
      // Signed in: the confirmation page (form op.logoutForm, the xsrf token). Not signed in:
      // an auto-submitting form with xsrf and logout=yes. Either way: the first form.
      const [form] = parseForms(html, endpoint);
      if (!form) throw new Error(`no form on the end_session page:\n${html}`);
      const fields = new URLSearchParams(form.fields.map(({ name, value }) => [name, value]));
      if (everywhere) fields.set('logout', 'yes');
      else fields.delete('logout');
      const done = await jar.fetch(form.action, { method: 'POST', form: fields });
      if (done.status !== 303) throw new Error(`end_session confirmation answered ${done.status}:\n${await done.text()}`);
      return {
        location: new URL(done.headers.get('location'), form.action),
        backchannel: backchannelLogouts.slice(before),
      };
    },

    /**
     * Logout from the provider's side, with no browser: every session of account `sub` ends, and
     * each client that the session signed in to and that registered backchannel_logout_uri gets
     * a logout token (with the session's sid for that client). Its grants and their tokens are
     * revoked. Resolves to the entries added to backchannelLogouts.
     */
    async logoutAccount(sub) {
      const before = backchannelLogouts.length;
      const sessions = [...store.values()]
        .filter((entry) => entry.model === 'Session' && entry.payload.accountId === sub);
      for (const { id, payload } of sessions) {
        for (const [clientId, { sid, grantId }] of Object.entries(payload.authorizations ?? {})) {
          const client = await provider.Client.find(clientId);
          if (client?.backchannelLogoutUri) {
            try {
              await client.backchannelLogout(sub, sid);
              backchannelLogouts.push({ clientId, sub, sid, ok: true });
            } catch (error) {
              backchannelLogouts.push({ clientId, sub, sid, ok: false, error });
            }
          }
          if (grantId) {
            for (const [key, entry] of store) {
              if (entry.payload.grantId === grantId || (entry.model === 'Grant' && entry.id === grantId)) store.delete(key);
            }
          }
        }
        store.delete(`Session:${id}`);
      }
      return backchannelLogouts.slice(before);
    },

    /**
     * A logout token as oidc-provider signs it for `clientId` (iss, aud, iat, exp, jti, the
     * back-channel logout event, sub, and sid when given), without sending it: for a test that
     * posts it itself, or changes it first. `sid` is left out when undefined.
     */
    async logoutToken({ clientId, sub, sid }) {
      const client = await findClient(clientId);
      const token = new provider.IdToken({ sub }, { client, ctx: undefined });
      token.mask = { sub: null };
      token.set('events', { 'http://schemas.openid.net/event/backchannel-logout': {} });
      token.set('jti', randomUUID());
      if (sid !== undefined) token.set('sid', sid);
      return token.issue({ use: 'logout' });
    },

    /**
     * Sends a logout token to the client's backchannel_logout_uri, as oidc-provider does on
     * logout (sid included when the client registered backchannel_logout_session_required).
     * Resolves to the backchannelLogouts entry; `ok` is whether the answer was 200 or 204.
     */
    async sendLogoutToken({ clientId, sub, sid }) {
      const client = await findClient(clientId);
      let entry;
      try {
        await client.backchannelLogout(sub, sid);
        entry = { clientId, sub, sid, ok: true };
      } catch (error) {
        entry = { clientId, sub, sid, ok: false, error };
      }
      backchannelLogouts.push(entry);
      return entry;
    },

    /** Stops listening and drops every connection (fetch keeps them alive). */
    async close() {
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export { CookieJar };
