// A tiny browser for the login and consent pages: it keeps cookies, follows nothing by itself,
// and reads hidden form fields. The pages are plain HTML forms, so this is all a person's
// browser does with them too.

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
