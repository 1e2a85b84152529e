//! `account`: what users may do with their own account.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{problem::Problem, sections::default_true};

/// Account self-service switches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each switch is an independent option of the file"
)]
pub struct AccountConfig {
    /// Users may change their email addresses.
    #[serde(default = "default_true")]
    pub email_change_allowed: bool,

    /// Users may change their display name (keep in line with the homeserver's policy).
    #[serde(default = "default_true")]
    pub displayname_change_allowed: bool,

    /// Users may register with a password (needs `passwords.enabled`).
    #[serde(default)]
    pub password_registration_enabled: bool,

    /// Password registration asks for an email address.
    #[serde(default = "default_true")]
    pub password_registration_email_required: bool,

    /// Users may change their password.
    #[serde(default = "default_true")]
    pub password_change_allowed: bool,

    /// Users may recover their password by email.
    #[serde(default)]
    pub password_recovery_enabled: bool,

    /// Users may deactivate their own account.
    #[serde(default = "default_true")]
    pub account_deactivation_allowed: bool,

    /// Users may log in with their email address instead of their username.
    #[serde(default)]
    pub login_with_email_allowed: bool,

    /// Password registration requires a registration token.
    #[serde(default)]
    pub password_registration_token_required: bool,

    /// Deprecated name of `password_registration_token_required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_token_required: Option<bool>,
}

impl Default for AccountConfig {
    fn default() -> Self {
        Self {
            email_change_allowed: true,
            displayname_change_allowed: true,
            password_registration_enabled: false,
            password_registration_email_required: true,
            password_change_allowed: true,
            password_recovery_enabled: false,
            account_deactivation_allowed: true,
            login_with_email_allowed: false,
            password_registration_token_required: false,
            registration_token_required: None,
        }
    }
}

impl AccountConfig {
    /// Whether password registration requires a registration token, under either name.
    #[must_use]
    pub fn registration_token_required(&self) -> bool {
        self.password_registration_token_required || self.registration_token_required == Some(true)
    }

    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.registration_token_required.is_some() {
            problems.push(
                Problem::warning(
                    "account.registration_token_required",
                    "deprecated name, still honoured",
                )
                .with_hint("rename it to account.password_registration_token_required"),
            );
        }
        problems
    }
}
