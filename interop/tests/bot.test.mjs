// Bots, driven by a real bot library: matrix-js-sdk (npm) with its Rust crypto, in Node, its
// crypto store in IndexedDB (fake-indexeddb, kept in memory for the process). Each test is a
// recipe of docs/bots.md: booting from a one-shot login token, keeping the device and its keys
// when an operator ends the bot's sessions, and resetting cross-signing keys without a browser.

import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as sdk from 'matrix-js-sdk';
import { logger } from 'matrix-js-sdk/lib/logger.js';

const base = new URL(process.env.BASE_URL);
const synapse = new URL(process.env.SYNAPSE_URL);
const adminToken = process.env.ADMIN_TOKEN;
const homeserverSecret = process.env.HOMESERVER_SECRET;
const configFile = join(dirname(process.env.DATABASE_FILE), 'config.yaml');
const password = 'a bot password long enough to pass';

logger.setLevel(process.env.BOT_DEBUG ? 'debug' : 'error');

async function call(url, { method = 'GET', token, body } = {}) {
  const response = await fetch(url, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

const admin = (method, path, body) =>
  call(new URL(`api/admin/v1/${path}`, base), { method, token: adminToken, body });

/** `mas-cli manage …` on the running server's configuration. */
function manage(...args) {
  return execFileSync(join(process.cwd(), 'target/debug/mas-cli'), ['-c', configFile, 'manage', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A user with a password, made through the Admin API; its id. */
async function createBot(username) {
  const created = await admin('POST', 'users', { username });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.data.id;
  const set = await admin('POST', `users/${id}/set-password`, { password, skip_password_check: true });
  assert.equal(set.status, 204, JSON.stringify(set.body));
  return id;
}

/** A login at the Matrix login API; retried while the new user is still on its way to Synapse. */
async function login(body) {
  for (let attempt = 0; ; attempt += 1) {
    const answer = await call(new URL('_matrix/client/v3/login', base), { method: 'POST', body });
    if (answer.status !== 503 && answer.status !== 502) return answer;
    if (attempt > 50) return answer;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function passwordLogin(user, deviceId) {
  return login({
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password,
    device_id: deviceId,
  });
}

function botClient(session, refreshToken) {
  return sdk.createClient({
    baseUrl: synapse.href.replace(/\/$/, ''),
    userId: session.user_id,
    deviceId: session.device_id,
    accessToken: session.access_token,
    refreshToken,
  });
}

/** Waits until `check()` holds (20 s at most). */
async function until(check) {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`never held: ${check}`);
}

/** Starts `client` syncing; resolves once its first sync is done. */
function synced(client) {
  return new Promise((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _previous, data) => {
      if (state === 'PREPARED') resolve();
      if (state === 'ERROR') reject(data?.error ?? new Error('sync failed'));
    });
    client.startClient({ initialSyncLimit: 10 });
  });
}

/** The device keys Synapse lists for `userId`'s `deviceId`. */
async function listedKeys(token, userId, deviceId) {
  const answer = await call(new URL('_matrix/client/v3/keys/query', synapse), {
    method: 'POST',
    token,
    body: { device_keys: { [userId]: [] } },
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.device_keys?.[userId]?.[deviceId]?.keys;
}

test('a bot boots from a one-shot login token, refreshes, and the token is dead afterwards', async () => {
  const id = await createBot('tokenbot');
  const issued = await admin('POST', `users/${id}/login-tokens`, { device_id: 'TOKENBOT01' });
  assert.equal(issued.status, 201, JSON.stringify(issued.body));
  const loginToken = issued.body.data.attributes.login_token;

  const booted = await login({ type: 'm.login.token', token: loginToken, refresh_token: true });
  assert.equal(booted.status, 200, JSON.stringify(booted.body));
  assert.equal(booted.body.device_id, 'TOKENBOT01');
  assert.ok(booted.body.refresh_token, 'the durable credential');

  const client = botClient(booted.body, booted.body.refresh_token);
  const me = await client.whoami();
  assert.equal(me.user_id, '@tokenbot:localhost');
  assert.equal(me.device_id, 'TOKENBOT01');

  const refreshed = await call(new URL('_matrix/client/v3/refresh', base), {
    method: 'POST',
    body: { refresh_token: booted.body.refresh_token },
  });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  const again = botClient({ ...booted.body, access_token: refreshed.body.access_token });
  assert.equal((await again.whoami()).device_id, 'TOKENBOT01');

  const replayed = await login({ type: 'm.login.token', token: loginToken });
  assert.equal(replayed.status, 403);
  assert.equal(replayed.body.errcode, 'M_FORBIDDEN');
  const checked = await admin('GET', `login-tokens/${issued.body.data.id}`);
  assert.ok(checked.body.data.attributes.consumed_at, 'redeemed');
});

test('a bot whose sessions an operator ends keeps its device, keys and crypto store', async () => {
  await createBot('keepbot');
  const first = await passwordLogin('keepbot', 'KEEPBOT001');
  assert.equal(first.status, 200, JSON.stringify(first.body));

  // The bot starts with its crypto store, which publishes its device keys (with its first
  // cross-signing keys, which sends what the crypto library has queued).
  const client = botClient(first.body);
  await client.initRustCrypto({ cryptoDatabasePrefix: 'keepbot' });
  await client.getCrypto().bootstrapCrossSigning({
    authUploadDeviceSigningKeys: async (makeRequest) => {
      await makeRequest(null);
    },
  });
  let keys;
  for (let attempt = 0; attempt < 100 && !keys; attempt += 1) {
    keys = await listedKeys(first.body.access_token, '@keepbot:localhost', 'KEEPBOT001');
    if (!keys) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(keys, 'the device keys are published');
  const own = await client.getCrypto().getOwnDeviceKeys();
  client.stopClient();

  // The operator ends its sessions, keeping the devices.
  const out = manage('kill-sessions', 'keepbot', '--keep-devices');
  assert.match(out, /the devices are kept/);
  // The command is another process: the server sees what it changed within half a second.
  const active = async () => {
    const introspected = await fetch(new URL('oauth2/introspect', base), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${homeserverSecret}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: first.body.access_token }),
    });
    return (await introspected.json()).active;
  };
  let stillActive = await active();
  for (let attempt = 0; attempt < 10 && stillActive; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    stillActive = await active();
  }
  assert.equal(stillActive, false, 'the old token is dead within a second');

  // Self-healing: the stored password, the same device ID.
  const second = await passwordLogin('keepbot', 'KEEPBOT001');
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.equal(second.body.device_id, 'KEEPBOT001');
  assert.deepEqual(
    await listedKeys(second.body.access_token, '@keepbot:localhost', 'KEEPBOT001'),
    keys,
    'the homeserver still lists its keys',
  );
  const restarted = botClient(second.body);
  await restarted.initRustCrypto({ cryptoDatabasePrefix: 'keepbot' });
  assert.deepEqual(await restarted.getCrypto().getOwnDeviceKeys(), own, 'the crypto store loads');

  // And it still reads what it is sent: a person opens an encrypted room with it and writes.
  await createBot('keepbotfriend');
  const friendLogin = await passwordLogin('keepbotfriend', 'FRIEND0001');
  assert.equal(friendLogin.status, 200, JSON.stringify(friendLogin.body));
  const friend = botClient(friendLogin.body);
  await friend.initRustCrypto({ useIndexedDB: false });
  try {
    await Promise.all([synced(restarted), synced(friend)]);
    const { room_id: roomId } = await friend.createRoom({
      invite: ['@keepbot:localhost'],
      initial_state: [
        { type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } },
      ],
    });
    await restarted.joinRoom(roomId);
    await until(() => friend.getRoom(roomId)?.getMember('@keepbot:localhost')?.membership === 'join');
    const received = new Promise((resolve) => {
      restarted.on(sdk.MatrixEventEvent.Decrypted, (event) => {
        if (event.getRoomId() === roomId && event.getType() === 'm.room.message') resolve(event);
      });
    });
    await friend.sendMessage(roomId, { msgtype: 'm.text', body: 'still there?' });
    const event = await Promise.race([
      received,
      new Promise((_, reject) => {
        setTimeout(() => reject(new Error('no decrypted message within 30 s')), 30_000).unref();
      }),
    ]);
    assert.equal(event.isDecryptionFailure(), false, 'decrypts');
    assert.equal(event.getWireType(), 'm.room.encrypted', 'it was sent encrypted');
    assert.equal(event.getContent().body, 'still there?');
  } finally {
    friend.stopClient();
    restarted.stopClient();
  }
});

test('a bot publishes cross-signing keys, then resets them with its own token, without a browser', async () => {
  const id = await createBot('csbot');
  const session = await passwordLogin('csbot', 'CSBOT00001');
  assert.equal(session.status, 200, JSON.stringify(session.body));
  const client = botClient(session.body);
  await client.initRustCrypto({ useIndexedDB: false });
  const crypto = client.getCrypto();

  // First publication: no interactive authentication (MSC3967).
  await crypto.bootstrapCrossSigning({
    authUploadDeviceSigningKeys: async (makeRequest) => {
      await makeRequest(null);
    },
  });
  const status = await crypto.getCrossSigningStatus();
  assert.ok(status.publicKeysOnDevice, JSON.stringify(status));

  const token = async (scope) => {
    const created = await admin('POST', 'personal-sessions', {
      actor_user_id: id,
      human_name: 'csbot',
      scope,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.data.attributes.access_token;
  };
  const plain = await token('urn:matrix:client:api:*');
  const resetting = await token('urn:matrix:client:api:* urn:portcullis:account:cross_signing_reset');
  const allow = (bearer) =>
    call(new URL('api/account/v1/allow-cross-signing-reset', base), { method: 'POST', token: bearer });

  // A reset needs the org.matrix.cross_signing_reset stage; the bot opens the window itself.
  let stage;
  await crypto.bootstrapCrossSigning({
    setupNewCrossSigning: true,
    authUploadDeviceSigningKeys: async (makeRequest) => {
      try {
        await makeRequest(null);
      } catch (error) {
        assert.equal(error.httpStatus, 401);
        stage = error.data?.flows?.flatMap((flow) => flow.stages);
        const refused = await allow(plain);
        assert.equal(refused.status, 403, 'a token without the scope cannot');
        const allowed = await allow(resetting);
        assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
        await makeRequest(null);
      }
    },
  });
  assert.ok(stage?.includes('org.matrix.cross_signing_reset'), JSON.stringify(stage));
  assert.ok((await crypto.getCrossSigningStatus()).publicKeysOnDevice);
  const log = readFileSync(join(dirname(process.env.DATABASE_FILE), 'server.log'), 'utf8');
  assert.match(log, /cross-signing reset allowed.*user\.username=csbot.*approved_by=the user's own token/);

  // And once more, the operator's way.
  await crypto.bootstrapCrossSigning({
    setupNewCrossSigning: true,
    authUploadDeviceSigningKeys: async (makeRequest) => {
      try {
        await makeRequest(null);
      } catch (error) {
        assert.equal(error.httpStatus, 401);
        manage('allow-cross-signing-reset', 'csbot');
        await makeRequest(null);
      }
    },
  });
  client.stopClient();
});
