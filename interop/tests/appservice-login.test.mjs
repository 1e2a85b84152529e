// A bridge (an application service registered with Synapse and with this server from the same
// registration file, see interop/run.sh) registers one of its users on Synapse, then signs it
// in at this server's Matrix login API with `m.login.application_service`, as bridges that
// need end-to-end encryption do: the user gets a device and a token that Synapse accepts.

import { test } from 'node:test';
import assert from 'node:assert/strict';

const base = new URL(process.env.BASE_URL);
const synapse = new URL(process.env.SYNAPSE_URL);
const asToken = process.env.BRIDGE_AS_TOKEN;

async function json(url, { method = 'GET', token, body } = {}) {
  const response = await fetch(url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json() };
}

test('a bridge signs in a user of its namespace, who then works on Synapse', async () => {
  const flows = await json(new URL('_matrix/client/v3/login', base));
  assert.ok(flows.body.flows.some((flow) => flow.type === 'm.login.application_service'));

  // The bridge registers its user on the homeserver, as appservices do.
  const registered = await json(new URL('_matrix/client/v3/register', synapse), {
    method: 'POST',
    token: asToken,
    body: { type: 'm.login.application_service', username: 'bridge_alice', inhibit_login: true },
  });
  assert.equal(registered.status, 200, JSON.stringify(registered.body));

  const login = await json(new URL('_matrix/client/v3/login', base), {
    method: 'POST',
    token: asToken,
    body: {
      type: 'm.login.application_service',
      identifier: { type: 'm.id.user', user: 'bridge_alice' },
      device_id: 'BRIDGEALICE1',
    },
  });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  assert.equal(login.body.user_id, '@bridge_alice:localhost');

  const whoami = await json(new URL('_matrix/client/v3/account/whoami', synapse), {
    token: login.body.access_token,
  });
  assert.equal(whoami.status, 200, JSON.stringify(whoami.body));
  assert.equal(whoami.body.user_id, '@bridge_alice:localhost');
  assert.equal(whoami.body.device_id, 'BRIDGEALICE1');

  // A user outside the namespace, or another token, is refused as Synapse would.
  const outside = await json(new URL('_matrix/client/v3/login', base), {
    method: 'POST',
    token: asToken,
    body: { type: 'm.login.application_service', identifier: { type: 'm.id.user', user: 'alice' } },
  });
  assert.equal(outside.status, 403);
  assert.equal(outside.body.errcode, 'M_FORBIDDEN');
  const wrong = await json(new URL('_matrix/client/v3/login', base), {
    method: 'POST',
    token: 'not-the-as-token',
    body: { type: 'm.login.application_service', identifier: { type: 'm.id.user', user: 'bridge_alice' } },
  });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.errcode, 'M_UNKNOWN_TOKEN');
});
