//! `upstream_register.html` and `upstream_link.html`: what a sign-in through an upstream
//! provider asks when the provider's account is linked to nobody yet.

use serde::Serialize;

use super::{Page, RegisterErrors};

/// A value the provider gives for the new account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedValue {
    pub value: String,
    /// Only suggested: a checkbox lets the visitor leave it out.
    pub optional: bool,
    /// Whether that checkbox is ticked.
    pub chosen: bool,
}

/// The confirmation of a registration through a provider. It posts back to the page's own URL
/// the fields `csrf`, `username` (when the provider gives none), `import_display_name`,
/// `import_email`, `token` and `accept_terms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamRegisterPage {
    pub csrf: String,
    pub server_name: String,
    /// The provider's name.
    pub provider: String,
    /// The account at the provider, as a person recognises it.
    pub account_name: Option<String>,
    /// The username the provider decides, shown and not editable.
    pub localpart: Option<String>,
    /// An existing user of that name, to whom the account will be linked (`on_conflict`).
    pub existing_user: bool,
    /// The username in the field, when the visitor chooses it.
    pub username: Option<String>,
    pub display_name: Option<ImportedValue>,
    pub email: Option<ImportedValue>,
    /// An address the provider gave but has not verified: mentioned, not imported.
    pub unvouched_email: Option<String>,
    /// Shows a required registration token field.
    pub token_required: bool,
    pub token: Option<String>,
    pub terms_accepted: bool,
    pub errors: RegisterErrors,
}

impl Page for UpstreamRegisterPage {
    const TEMPLATE: &'static str = "upstream_register.html";
}

/// The offer to link the provider's account to the user signed in. It posts back `csrf` and
/// `action=link`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamLinkPage {
    pub csrf: String,
    pub provider: String,
    pub account_name: Option<String>,
    /// The signed-in user's Matrix ID.
    pub user_id: String,
    /// Where "not now" leads (where the visitor was going).
    pub cancel_url: String,
}

impl Page for UpstreamLinkPage {
    const TEMPLATE: &'static str = "upstream_link.html";
}
