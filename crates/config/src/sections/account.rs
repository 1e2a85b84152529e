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

    /// Second factors and passkeys (ours: MAS has none).
    #[serde(default, skip_serializing_if = "SecondFactorsConfig::is_default")]
    pub second_factors: SecondFactorsConfig,
}

/// Who must have a second factor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorRequirement {
    /// Nobody: users choose.
    #[default]
    Nobody,
    /// Administrators (users who may request admin access).
    Admins,
    /// Every user who signs in with a password or at an upstream provider.
    Everyone,
}

/// `account.second_factors`: authenticator apps, passkeys and recovery codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SecondFactorsConfig {
    /// Users may add an authenticator app (TOTP) to their account.
    #[serde(default = "default_true")]
    pub totp_allowed: bool,

    /// Users may register passkeys, as a second factor.
    #[serde(default = "default_true")]
    pub passkeys_allowed: bool,

    /// A passkey alone signs in, without the password ("Sign in with a passkey").
    #[serde(default = "default_true")]
    pub passkey_sign_in_allowed: bool,

    /// A user with a passkey may remove their password, and then sign in with their passkeys
    /// alone (needs `passkeys_allowed` and `passkey_sign_in_allowed`).
    #[serde(default)]
    pub passkey_only_accounts_allowed: bool,

    /// Who must have a second factor: `nobody`, `admins` or `everyone`. Those without one are
    /// asked to add an authenticator app right after their password.
    #[serde(default)]
    pub required: SecondFactorRequirement,
}

impl Default for SecondFactorsConfig {
    fn default() -> Self {
        Self {
            totp_allowed: true,
            passkeys_allowed: true,
            passkey_sign_in_allowed: true,
            passkey_only_accounts_allowed: false,
            required: SecondFactorRequirement::Nobody,
        }
    }
}

impl SecondFactorsConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
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
            second_factors: SecondFactorsConfig::default(),
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
        let factors = &self.second_factors;
        if factors.required != SecondFactorRequirement::Nobody && !factors.totp_allowed {
            problems.push(
                Problem::error(
                    "account.second_factors.required",
                    "a second factor is required, but authenticator apps are not allowed",
                )
                .with_hint(
                    "set account.second_factors.totp_allowed: true (users who must add a \
                     second factor do so with an authenticator app)",
                ),
            );
        }
        if factors.passkey_sign_in_allowed && !factors.passkeys_allowed {
            problems.push(
                Problem::warning(
                    "account.second_factors.passkey_sign_in_allowed",
                    "passkeys are not allowed, so nobody can sign in with one",
                )
                .with_hint("set account.second_factors.passkeys_allowed: true, or this to false"),
            );
        }
        if factors.passkey_only_accounts_allowed
            && !(factors.passkeys_allowed && factors.passkey_sign_in_allowed)
        {
            problems.push(
                Problem::error(
                    "account.second_factors.passkey_only_accounts_allowed",
                    "accounts without a password would sign in with a passkey alone, which \
                     is not allowed",
                )
                .with_hint(
                    "set account.second_factors.passkeys_allowed and \
                     account.second_factors.passkey_sign_in_allowed to true, or this to false",
                ),
            );
        }
        problems
    }
}
