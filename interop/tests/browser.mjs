// A tiny browser for the login and consent pages: it keeps cookies, follows nothing by itself,
// and reads hidden form fields. The pages are plain HTML forms, so this is all a person's
// browser does with them too.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';

export class Browser {
  constructor(base) {
    this.base = base;
    this.cookies = new Map();
  }

  cookieHeader() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  remember(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(url) {
    const response = await fetch(new URL(url, this.base), {
      redirect: 'manual',
      headers: { cookie: this.cookieHeader() },
    });
    this.remember(response);
    return response;
  }

  async post(url, fields) {
    const response = await fetch(new URL(url, this.base), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: this.cookieHeader(),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(fields),
    });
    this.remember(response);
    return response;
  }
}

export function field(html, name) {
  const match = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  if (!match) throw new Error(`no ${name} field in:\n${html}`);
  return match[1];
}

/// Follows a redirect to the login page, signs in, and returns the response to the login POST.
export async function signIn(browser, redirect, username, password) {
  const loginUrl = new URL(redirect.headers.get('location'), browser.base);
  const form = await browser.get(loginUrl);
  const csrf = field(await form.text(), 'csrf');
  return browser.post(loginUrl, { csrf, username, password });
}

// Moves every sign-in of every browser session `minutes` into the past in the server's SQLite
// file `databaseFile`, as if the person had signed in that long ago. Times are stored as RFC
// 3339 text in UTC with microseconds.
export function ageSignIns(databaseFile, minutes) {
  const script = `
import datetime, sqlite3, sys
when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=int(sys.argv[2]))
db = sqlite3.connect(sys.argv[1], timeout=30)
with db:
    db.execute("UPDATE user_session_authentications SET created_at = ?",
               (when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),))
db.close()
`;
  execFileSync('python3', ['-c', script, databaseFile, String(minutes)]);
}

// The steps of one journey through the pages, as subtests of `t`: once a step fails, the later
// ones are skipped (they would fail for the same reason, and hide it).
export function journey(t) {
  let failed = false;
  return (name, body) =>
    t.test(name, { skip: failed && 'an earlier step failed' }, async () => {
      try {
        await body();
      } catch (error) {
        failed = true;
        throw error;
      }
    });
}

/** The bytes of an unpadded RFC 4648 base32 text (spaces ignored). */
export function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const letter of text.replace(/\s/g, '')) {
    const value = alphabet.indexOf(letter);
    assert.ok(value >= 0, `not base32: ${letter}`);
    bits += value.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let at = 0; at + 8 <= bits.length; at += 8) bytes.push(parseInt(bits.slice(at, at + 8), 2));
  return Buffer.from(bytes);
}

/** The 6-digit code of `key` for the 30-second step `steps` away from now (RFC 6238). */
export function totp(key, steps = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + steps));
  const digest = createHmac('sha1', key).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const number = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(number % 1_000_000).padStart(6, '0');
}
