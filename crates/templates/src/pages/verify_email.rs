//! `verify_email.html`: the form for the code sent to an email address.

use serde::Serialize;

use super::Page;

/// Asks for the 6-digit code sent to `email`. The code form posts `csrf` and `code` to
/// `action`; the resend form posts `csrf` to `resend_url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyEmailPage {
    /// Anti-CSRF token, echoed in the hidden `csrf` field of both forms.
    pub csrf: String,
    /// The address the code was sent to.
    pub email: String,
    /// Where the code is posted.
    pub action: String,
    /// Where asking for a new code is posted.
    pub resend_url: String,
    /// Where to start over (the registration form, or the account page).
    pub restart_url: Option<String>,
    /// What was wrong with the last code.
    pub error: Option<String>,
    /// A remark that is not an error (a new code was sent).
    pub notice: Option<String>,
}

impl Page for VerifyEmailPage {
    const TEMPLATE: &'static str = "verify_email.html";
}
