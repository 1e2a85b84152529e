//! `register.html`: the password registration form.

use serde::Serialize;

use super::{Page, ProviderButton};

/// The registration form. It posts back to the page's own URL (query string included, so the
/// flow that led here is kept) the fields `csrf`, `username`, `password`, `password_confirm`,
/// `display_name`, and, when shown, `email`, `token` and `accept_terms` (`yes` when ticked).
///
/// The terms of service checkbox is shown, and required, when the site's `branding.tos_uri`
/// is set; it links there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterPage {
    /// Anti-CSRF token, echoed in the hidden `csrf` field.
    pub csrf: String,
    /// The Matrix server name, to show the user ID the username makes (`@bob:example.com`).
    pub server_name: String,
    /// Username to fill in: the one typed before an error, or the client's login hint.
    pub username: Option<String>,
    /// Display name typed before an error.
    pub display_name: Option<String>,
    /// Email address typed before an error.
    pub email: Option<String>,
    /// Registration token typed before an error.
    pub token: Option<String>,
    /// Whether the terms checkbox was ticked before an error.
    pub terms_accepted: bool,
    /// Makes the email address field required (it is shown, optional, otherwise).
    pub email_required: bool,
    /// Shows a required registration token field.
    pub token_required: bool,
    /// Where to sign in instead, keeping the flow that led here.
    pub login_url: Option<String>,
    /// What was wrong with the last attempt, next to each field.
    pub errors: RegisterErrors,
    /// Whether the password form is shown (password registration is enabled).
    pub password_form: bool,
    /// A button per enabled upstream provider: registering through it.
    pub providers: Vec<ProviderButton>,
}

/// The problems of a registration attempt, each shown next to its field (or above the form).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RegisterErrors {
    /// About the whole form (an expired form, too many attempts, a homeserver that cannot be
    /// reached), shown above it.
    pub form: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_confirm: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub token: Option<String>,
    pub terms: Option<String>,
}

impl RegisterErrors {
    /// Whether there is no problem at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl RegisterPage {
    /// An empty form for `server_name`, without email, token or link to sign in.
    #[must_use]
    pub fn new(csrf: impl Into<String>, server_name: impl Into<String>) -> Self {
        Self {
            csrf: csrf.into(),
            server_name: server_name.into(),
            username: None,
            display_name: None,
            email: None,
            token: None,
            terms_accepted: false,
            email_required: false,
            token_required: false,
            login_url: None,
            errors: RegisterErrors::default(),
            password_form: true,
            providers: Vec::new(),
        }
    }
}

impl Page for RegisterPage {
    const TEMPLATE: &'static str = "register.html";
}
