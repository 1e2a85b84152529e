//! `recover.html`, `recover_sent.html`, `recover_complete.html`: password recovery by email.

use serde::Serialize;

use super::{Page, PasswordChangeErrors};

/// Asks for the address of the account. The form posts `csrf` and `email` back to the page's
/// own URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecoverPage {
    /// Anti-CSRF token, echoed in the hidden `csrf` field.
    pub csrf: String,
    /// What was typed before an error.
    pub email: Option<String>,
    /// Why the request was refused (malformed address, too many requests).
    pub error: Option<String>,
    /// Where to sign in instead.
    pub login_url: String,
}

impl Page for RecoverPage {
    const TEMPLATE: &'static str = "recover.html";
}

/// The same answer for every address, known or not: if an account has it, a link was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecoverSentPage {
    /// The address typed.
    pub email: String,
    /// Where to ask again.
    pub recover_url: String,
    /// Where to sign in.
    pub login_url: String,
}

impl Page for RecoverSentPage {
    const TEMPLATE: &'static str = "recover_sent.html";
}

/// The new password form of a recovery link. It posts `csrf`, `ticket`, `new_password` and
/// `new_password_confirm` to `action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecoverCompletePage {
    /// Anti-CSRF token, echoed in the hidden `csrf` field.
    pub csrf: String,
    /// The ticket of the link, echoed in the hidden `ticket` field.
    pub ticket: String,
    /// Where the form posts.
    pub action: String,
    /// Whose password is reset.
    pub username: String,
    /// The problems of the last attempt (`current_password` is not used).
    pub errors: PasswordChangeErrors,
}

impl Page for RecoverCompletePage {
    const TEMPLATE: &'static str = "recover_complete.html";
}
