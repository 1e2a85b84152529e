//! `login.html`: the password login form and the upstream providers' buttons.

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
    /// Whether the password form is shown (password login is enabled).
    pub password_form: bool,
    /// A button per enabled upstream provider.
    pub providers: Vec<ProviderButton>,
    /// "Sign in with a passkey", when passkeys sign in alone here.
    pub passkey: Option<PasskeyForm>,
}

/// A form that runs a passkey ceremony (`/assets/passkeys.js`): hidden until the script finds
/// WebAuthn in the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasskeyForm {
    /// Where the browser's answer is posted.
    pub action: String,
    /// Where the ceremony's options are fetched.
    pub options_url: String,
}

/// A "Continue with …" button: it starts a sign-in at an upstream provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderButton {
    /// The provider's name (`human_name`, else its id).
    pub name: String,
    /// A well-known brand (`google`, `github`...), for a style of its own.
    pub brand: Option<String>,
    /// The brand's logo, a path under the site's base path (`/assets/brands/google.svg`).
    pub logo: Option<String>,
    /// `/upstream/authorize/{id}`, with the page's query (where the user was going).
    pub url: String,
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
            password_form: true,
            passkey: None,
            providers: Vec::new(),
        }
    }
}

impl Page for LoginPage {
    const TEMPLATE: &'static str = "login.html";
}

/// `login_second_factor.html`: the second step of a sign-in. It asks for a code of the user's
/// authenticator app or a recovery code (field `code`, with `csrf`, posted back to the page's
/// own URL); when the operator requires a second factor the user does not have yet, it shows
/// the authenticator app to add first (`enrolment`); once added, the recovery codes, this once,
/// and a link to go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecondFactorPage {
    pub csrf: String,
    /// Why the last code was refused.
    pub error: Option<String>,
    /// The authenticator app to add before going on.
    pub enrolment: Option<super::TotpEnrolmentView>,
    /// Recovery codes just made, shown this once.
    pub recovery_codes: Vec<String>,
    /// Where to go on once the recovery codes are noted.
    pub continue_url: Option<String>,
    /// Back to the sign-in page, as someone else.
    pub cancel_url: String,
    /// A passkey instead of a code, when the user has one.
    pub passkey: Option<PasskeyForm>,
    /// The user has an authenticator app (otherwise the code field takes recovery codes only).
    pub totp: bool,
    /// While a second factor is being added: a passkey instead of an authenticator app.
    pub add_passkey: Option<PasskeyForm>,
}

impl Page for SecondFactorPage {
    const TEMPLATE: &'static str = "login_second_factor.html";
}
