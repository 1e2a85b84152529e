// A headless "browser" for the sign-in pages of the upstream OpenID Provider (op.mjs): the
// built-in development pages of oidc-provider (`features.devInteractions`), which are plain HTML
// forms without JavaScript. It follows redirects itself (fetch with redirect: 'manual') so that
// it can keep cookies and stop at the first hop that leaves the provider, which is the answer
// for the relying party: a redirect to its redirect URI (response_mode=query), or an
// auto-submitting form that a browser would POST to it (response_mode=form_post).
//
// Nothing here knows Portcullis: whoever drives the relying party hands the result on to it.

/** Decodes the five entities that oidc-provider's templates escape (htmlSafe, eta's escaping). */
function decodeEntities(text) {
  return text.replace(/&(amp|lt|gt|quot|#39|#x27|#34);/g, (_, entity) => ({
    amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", '#34': '"',
  })[entity]);
}

/** The attributes of one start tag, e.g. `<input type="hidden" name="a" value="b"/>`. */
function attributes(tag) {
  const found = {};
  for (const [, name, , double, single, bare] of tag.matchAll(
    /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g,
  )) {
    found[name.toLowerCase()] = decodeEntities(double ?? single ?? bare ?? '');
  }
  return found;
}

/**
 * Every `<form>` of a page, with its action (resolved against `base`), method and the
 * name/value pairs of its inputs, in order. Only what the provider's pages use: inputs, no
 * selects or textareas. `submit` is the named submit button's pair when there is one (the logout
 * page's "Yes, sign me out" is `<button name="logout" value="yes">`, outside the form but tied
 * to it by `form="op.logoutForm"`).
 */
export function parseForms(html, base) {
  const forms = [];
  for (const [, open, inner] of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(open.replace(/^form\b/i, ''));
    const fields = [];
    for (const [input] of inner.matchAll(/<input\b[^>]*>/gi)) {
      const { name, value = '', type = 'text' } = attributes(input.replace(/^<input\b/i, '').replace(/\/?>$/, ''));
      if (name !== undefined) fields.push({ name, value, type });
    }
    forms.push({
      id: attrs.id,
      action: new URL(attrs.action ?? '', base),
      method: (attrs.method ?? 'get').toUpperCase(),
      fields,
    });
  }
  // Buttons outside their form (form="id") and named buttons inside it.
  for (const [button] of html.matchAll(/<button\b[^>]*>/gi)) {
    const attrs = attributes(button.replace(/^<button\b/i, '').replace(/>$/, ''));
    if (attrs.name === undefined) continue;
    const form = forms.find((candidate) => attrs.form !== undefined && candidate.id === attrs.form);
    if (form) form.buttons = [...(form.buttons ?? []), { name: attrs.name, value: attrs.value ?? '' }];
  }
  return forms;
}

/**
 * Cookies per origin, as a browser keeps them for the provider: name, value and path; expired
 * ones are dropped. Domain and Secure are ignored (everything is one plain-http origin on
 * 127.0.0.1). Ports are kept apart on purpose, unlike a real browser (RFC 6265 cookies ignore the
 * port), so that the provider's cookies never reach a relying party on another port of 127.0.0.1.
 */
export class CookieJar {
  constructor() {
    /** origin -> Map("name;path" -> { name, value, path }) */
    this.byOrigin = new Map();
  }

  /** Stores the Set-Cookie headers of `response`, a response to a request to `url`. */
  remember(url, response) {
    const { origin, pathname } = new URL(url);
    if (!this.byOrigin.has(origin)) this.byOrigin.set(origin, new Map());
    const cookies = this.byOrigin.get(origin);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...parts] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      let path = pathname.slice(0, pathname.lastIndexOf('/') + 1) || '/'; // RFC 6265 default-path
      let expired = value === '';
      for (const part of parts) {
        const [key, ...rest] = part.split('=');
        const attribute = key.trim().toLowerCase();
        const attributeValue = rest.join('=').trim();
        if (attribute === 'path' && attributeValue.startsWith('/')) path = attributeValue;
        if (attribute === 'max-age' && Number(attributeValue) <= 0) expired = true;
        if (attribute === 'expires' && Date.parse(attributeValue) <= Date.now()) expired = true;
      }
      if (expired) cookies.delete(`${name};${path}`);
      else cookies.set(`${name};${path}`, { name, value, path });
    }
  }

  /** The Cookie header a browser sends with a request to `url` (empty when none applies). */
  header(url) {
    const { origin, pathname } = new URL(url);
    const matching = [...(this.byOrigin.get(origin)?.values() ?? [])].filter(({ path }) => (
      pathname === path || pathname.startsWith(path.endsWith('/') ? path : `${path}/`)
    ));
    // Longer paths first, as RFC 6265 orders them.
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map(({ name, value }) => `${name}=${value}`).join('; ');
  }

  /** One request as a browser makes it: the jar's cookies, no redirect followed. */
  async fetch(url, { method = 'GET', form } = {}) {
    const headers = {};
    const cookie = this.header(url);
    if (cookie) headers.cookie = cookie;
    const init = { method, redirect: 'manual', headers };
    if (form !== undefined) init.body = new URLSearchParams(form);
    const response = await fetch(url, init);
    this.remember(url, response);
    return response;
  }
}

/** Name/value pairs of `fields` (as parseForms returns them) as URLSearchParams. */
function formData(fields) {
  return new URLSearchParams(fields.map(({ name, value }) => [name, value]));
}

/**
 * Signs in at the provider, from its authorization URL to the answer for the relying party.
 *
 *   const result = await signIn(authorizationUrl, { login: 'alice-sub' });
 *
 * - `login`: the account to sign in as (its `sub`, a key of the provider's `accounts`). The
 *   development login form takes any login and any password; an unknown account makes the
 *   provider ask again, which ends here in an error after `maxSteps`.
 * - `password`: sent, and ignored by the provider.
 * - `jar`: a CookieJar to keep the provider's session in, e.g. to sign in again without a login
 *   prompt (single sign-on) or to sign out later with op.endSession(jar). A new one by default.
 * - `cancel`: follow the page's "[ Cancel ]" link at the first login or consent page instead of
 *   submitting it; the provider then answers the relying party with error=access_denied.
 * - `origin`: the provider's origin, when the authorization URL is on another one (e.g. the
 *   relying party's own /authorize route that redirects to the provider).
 *
 * Resolves to the first hop that leaves the provider's origin:
 *   { kind: 'redirect',  method: 'GET',  url: URL (with the query), params: url.searchParams, jar }
 *   { kind: 'form_post', method: 'POST', url: URL (the form's action), params: URLSearchParams
 *     of its fields, fields: { name: value }, html: the provider's page, jar }
 * and `request()` on either builds the `Request` a browser would send to the relying party
 * (openid-client's authorizationCodeGrant takes it as its currentUrl, for form_post too).
 * Throws with the page's text on an error page, an unexpected page or too many steps.
 */
export async function signIn(authorizationUrl, {
  login,
  password = 'any password',
  jar = new CookieJar(),
  cancel = false,
  origin,
  maxSteps = 20,
} = {}) {
  let url = new URL(authorizationUrl);
  const providerOrigin = origin ?? url.origin;
  let request = { method: 'GET' };

  for (let step = 0; step < maxSteps; step += 1) {
    if (url.origin !== providerOrigin) return redirectResult(url, jar);

    const response = await jar.fetch(url, request);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, url);
      request = { method: 'GET' };
      continue;
    }

    const html = await response.text();
    if (response.status !== 200) {
      throw new Error(`the provider answered ${request.method} ${url} with ${response.status}:\n${html}`);
    }
    const [form] = parseForms(html, url);
    if (!form) throw new Error(`no form on the provider's page at ${url}:\n${html}`);
    const fields = formData(form.fields);

    // oidc-provider's form_post response mode: a page whose form, posted by a script on load,
    // goes to the relying party's redirect URI with the code (or the error) and state.
    if (form.action.origin !== providerOrigin) {
      return {
        kind: 'form_post',
        method: 'POST',
        url: form.action,
        params: fields,
        fields: Object.fromEntries(fields),
        html,
        jar,
        request: () => new Request(form.action, { method: 'POST', body: fields }),
      };
    }

    // The development interaction pages: prompt=login (fields login and password) and
    // prompt=consent (nothing to fill in: "Continue" grants what the client asked for).
    const prompt = fields.get('prompt');
    if (prompt === 'login' || prompt === 'consent') {
      if (cancel) {
        // The "[ Cancel ]" link: GET /interaction/{uid}/abort.
        const abort = html.match(/<a\b[^>]*href="([^"]*\/abort)"/i);
        if (!abort) throw new Error(`no cancel link on the provider's page at ${url}:\n${html}`);
        url = new URL(decodeEntities(abort[1]), url);
        request = { method: 'GET' };
        continue;
      }
      if (prompt === 'login') {
        if (login === undefined) throw new Error('the provider asks to sign in, and signIn() was given no login');
        fields.set('login', login);
        fields.set('password', password);
      }
      url = form.action;
      request = { method: form.method, form: fields };
      continue;
    }

    throw new Error(`unexpected page from the provider at ${url}:\n${html}`);
  }
  throw new Error(`signIn() gave up after ${maxSteps} steps, last at ${url}`);
}

function redirectResult(url, jar) {
  return {
    kind: 'redirect',
    method: 'GET',
    url,
    params: url.searchParams,
    jar,
    request: () => new Request(url),
  };
}
