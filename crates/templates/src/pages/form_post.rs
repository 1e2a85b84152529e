//! `form_post.html`: the OAuth 2.0 Form Post Response Mode, which returns the authorization
//! response to the client as an HTML form posted by the browser instead of a redirect.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Page;
use crate::urls::required_web_url;

/// A form posting `params` to `redirect_uri`, submitted by a one-line inline script when the
/// page loads, or by a button for browsers without scripts.
///
/// The script carries `csp_nonce`: serve the page with
/// `Content-Security-Policy: script-src 'nonce-<csp_nonce>'` and a fresh random nonce each
/// time, so that it is the only script that may run. A nonce, rather than a hash of the
/// script, keeps working when an operator overrides the template. The form's action must be
/// allowed too: `form-action` must include `redirect_uri`, or be left unset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormPostPage {
    /// Where to post the response: the client's registered redirect URI. Rendering fails
    /// unless it is an `http:` or `https:` URL, since a form's action can run script.
    #[serde(serialize_with = "required_web_url")]
    pub redirect_uri: String,
    /// The response parameters (`code`, `state`, `iss`, or `error`...), as hidden fields.
    pub params: BTreeMap<String, String>,
    /// The nonce of the inline script, random for each response (at least 128 bits, in
    /// base64).
    pub csp_nonce: String,
}

impl Page for FormPostPage {
    const TEMPLATE: &'static str = "form_post.html";
}
