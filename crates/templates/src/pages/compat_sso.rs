//! `compat_sso.html`: asks the signed-in user whether an application that started a single
//! sign-on through the Matrix login API may sign in to their account.

use serde::Serialize;

use super::Page;

/// The consent form of a single sign-on login. It posts back to the page's own URL the fields
/// `csrf` and `action`, which is `allow` or `deny`.
///
/// The application is known only by where it asked the login token to be sent, so that is what
/// the page names: the host of a web address, or the scheme of an app's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompatSsoPage {
    /// Anti-CSRF token, echoed in the hidden `csrf` field.
    pub csrf: String,
    /// The host (or app scheme) the login token goes to.
    pub redirect_host: String,
    /// Who is signed in, so that nobody allows the wrong account.
    pub username: String,
}

impl Page for CompatSsoPage {
    const TEMPLATE: &'static str = "compat_sso.html";
}
