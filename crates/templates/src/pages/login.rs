//! `login.html`: the password login form.

use serde::Serialize;

use super::Page;

/// The login form. It posts back to the page's own URL (query string included, so the step
/// that led here is kept) the fields `username`, `password` and `csrf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginPage {
    /// Anti-CSRF token, echoed in the hidden `csrf` field.
    pub csrf: String,
    /// Username to fill in: the one typed before an error, or the client's login hint.
    pub username: Option<String>,
    /// Why the last attempt failed, shown above the form.
    pub error: Option<String>,
    /// Where to create an account, when registration is open.
    pub registration_url: Option<String>,
    /// Where to recover a forgotten password, when recovery is enabled.
    pub recovery_url: Option<String>,
}

impl LoginPage {
    /// An empty form.
    #[must_use]
    pub fn new(csrf: impl Into<String>) -> Self {
        Self {
            csrf: csrf.into(),
            username: None,
            error: None,
            registration_url: None,
            recovery_url: None,
        }
    }
}

impl Page for LoginPage {
    const TEMPLATE: &'static str = "login.html";
}
