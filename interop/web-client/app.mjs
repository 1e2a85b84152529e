// A one-page Matrix client that signs in the way Element Web does, with the real matrix-js-sdk:
// it discovers the auth server through the homeserver, registers itself, sends the person to the
// authorization endpoint, and back on /callback exchanges the code, refreshes, and revokes.
// Every request is made by this page, so the browser applies CORS to each one as it would for
// Element; interop/tests/element-web.test.mjs serves the page, bundles it with esbuild, drives
// the sign-in and consent pages in between, and checks what this page reports.
//
// Two page loads share one run, as in a real client: what the callback needs (the client ID, the
// PKCE verifier, the state) waits in sessionStorage, and so does the record of the steps.
import { createClient, OAuth2 } from 'matrix-js-sdk';
// Not re-exported by the package's index in v43; Element imports it by path the same way.
import { TokenRefresher } from 'matrix-js-sdk/lib/oauth/tokenRefresher.js';

const RESULT = 'interop.result';
const LOGIN = 'interop.login';

const result = JSON.parse(sessionStorage.getItem(RESULT) ?? '{"steps":{}}');
window.__result = result;

async function publish(report) {
  sessionStorage.setItem(RESULT, JSON.stringify(result));
  document.getElementById('progress').textContent = JSON.stringify(result, null, 2);
  // Bound by the test (playwright's exposeBinding); absent when a person opens the page. Awaited,
  // so that no report is lost to the navigation that follows a step.
  await window.__report?.(report);
}

// The sdk wraps a failed fetch in its own error and keeps the browser's in `cause`; a CORS
// block is only visible there ("Failed to fetch").
function describe(error) {
  const parts = [];
  for (let e = error; e; e = e.cause) {
    let text = String(e.message ?? e);
    if (e.httpStatus) text += ` (HTTP ${e.httpStatus})`;
    if (e.error) text += ` [${e.error}${e.error_description ? `: ${e.error_description}` : ''}]`;
    parts.push(text);
  }
  return parts.join(' <- caused by: ');
}

async function step(name, run) {
  try {
    const detail = (await run()) ?? {};
    result.steps[name] = detail;
    await publish({ step: name, detail });
    return detail;
  } catch (error) {
    result.error = { step: name, message: describe(error) };
    await publish({ step: name, error: result.error.message });
    throw error;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function whoami(homeserver, accessToken) {
  return createClient({ baseUrl: homeserver, accessToken }).whoami();
}

// The first load: discovery, registration, and away to the authorization endpoint.
async function start() {
  const { homeserver } = await (await fetch('/config.json')).json();
  const redirectUri = new URL('/callback', location.origin).href;

  const { metadata } = await step('discovery', async () => ({
    metadata: await createClient({ baseUrl: homeserver }).getAuthMetadata(),
  }));

  const { clientId } = await step('registration', async () => ({
    clientId: await OAuth2.registerClient(metadata, {
      client_name: 'Element Web (interop)',
      client_uri: new URL('/', location.origin).href,
      redirect_uris: [redirectUri],
      application_type: 'web',
    }),
  }));

  // The sdk makes up the device ID and the PKCE verifier; both must survive the round trip.
  const auth = new OAuth2(metadata, { clientId });
  const state = crypto.randomUUID();
  const { url } = await step('authorization request', async () => ({
    url: await auth.generateAuthorizationCodeGrantUrl(state, redirectUri),
    deviceId: auth.context.deviceId,
  }));
  sessionStorage.setItem(
    LOGIN,
    JSON.stringify({ homeserver, metadata, redirectUri, state, ...auth.context }),
  );
  location.assign(url);
}

// Back from the auth server with the code (in the fragment: the sdk's default response_mode).
async function callback() {
  const login = JSON.parse(sessionStorage.getItem(LOGIN));
  const { homeserver, metadata, redirectUri, clientId, deviceId, codeVerifier } = login;

  const { code } = await step('authorization', async () => {
    const params = new URLSearchParams(location.hash.slice(1) || location.search.slice(1));
    if (params.has('error')) {
      throw new Error(`${params.get('error')}: ${params.get('error_description') ?? ''}`);
    }
    if (params.get('state') !== login.state) throw new Error('the state does not match');
    if (!params.get('code')) throw new Error(`no code in ${location.href}`);
    return { code: params.get('code'), inFragment: location.hash.length > 1 };
  });

  const auth = new OAuth2(metadata, { clientId, deviceId, codeVerifier });
  // The whole token response is the step's record: the test checks its fields.
  const tokens = await step('token', () => auth.completeAuthorizationCodeGrant(code, redirectUri));

  await step('whoami', () => whoami(homeserver, tokens.access_token));

  // Element hands its TokenRefresher to the MatrixClient; the client calls refreshTokens when
  // the access token expires. Here it is called directly rather than waiting for an expiry.
  let handedOver = null;
  const refresher = new TokenRefresher(auth, (fresh) => {
    handedOver = fresh;
  });
  const fresh = await step('refresh', async () => {
    const next = await refresher.refreshTokens(tokens.refresh_token);
    return {
      accessToken: next.accessToken,
      refreshToken: next.refreshToken,
      expiry: next.expiry?.toISOString(),
      handedOver: handedOver?.accessToken === next.accessToken,
    };
  });

  await step('whoami after refresh', () => whoami(homeserver, fresh.accessToken));

  // What Element's sign-out does: revoke the token at the revocation endpoint.
  await step('revocation', async () => {
    await refresher.revokeToken(fresh.accessToken, 'access_token');
    return { endpoint: metadata.revocation_endpoint };
  });

  // Synapse caches introspection answers; the device's deletion, queued by the revocation, is
  // what ends the token there, within seconds.
  await step('whoami after revocation', async () => {
    const started = Date.now();
    for (;;) {
      try {
        await whoami(homeserver, fresh.accessToken);
      } catch (error) {
        if (error.httpStatus === 401) {
          return { status: 401, errcode: error.errcode, afterMs: Date.now() - started };
        }
        throw error;
      }
      if (Date.now() - started > 20_000) throw new Error('Synapse still accepts the revoked token');
      await sleep(200);
    }
  });

  await step('done', async () => ({}));
}

(location.pathname === '/callback' ? callback() : start()).catch((error) => {
  // Recorded by step() already when it happened inside one; anything else is a bug of the page.
  if (!result.error) {
    result.error = { step: 'page', message: describe(error) };
    publish({ step: 'page', error: result.error.message });
  }
});
