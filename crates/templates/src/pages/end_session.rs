//! `end_session.html`: asks the user to confirm signing out when an application asks for it
//! (OpenID Connect RP-Initiated Logout 1.0 §3: the provider should ask).

use serde::Serialize;

use super::Page;

/// The confirmation form. It posts back to the page's own URL the fields `csrf` and
/// `action=logout|stay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndSessionPage {
    /// Anti-CSRF token, echoed in the hidden `csrf` field.
    pub csrf: String,
    /// The application that asked, when it is known.
    pub client_name: Option<String>,
    /// Who is signed in, when someone is.
    pub username: Option<String>,
}

impl Page for EndSessionPage {
    const TEMPLATE: &'static str = "end_session.html";
}
