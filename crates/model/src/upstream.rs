//! Upstream OpenID Connect / OAuth 2.0 providers users can sign in with.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ulid::Ulid;

/// An upstream provider, mirrored from the configuration file by `config sync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamProvider {
    /// The identifier from the configuration (a ULID in MAS files, or a short name such as
    /// `pocketid`); it appears in callback URLs, so it never changes.
    pub id: String,
    /// The issuer, when discovery is used.
    pub issuer: Option<String>,
    /// The name shown on the sign-in button.
    pub human_name: Option<String>,
    /// A well-known brand (`google`, `github`...) for the button's logo.
    pub brand_name: Option<String>,
    /// The client secret at the provider, encrypted by the caller; opaque here.
    pub encrypted_client_secret: Option<String>,
    /// The rest of the provider's settings, as configured.
    pub config: serde_json::Value,
    /// When the provider was first stored.
    pub created_at: DateTime<Utc>,
    /// Set when the provider disappeared from the configuration: existing links are kept, but
    /// nobody can sign in through it.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl UpstreamProvider {
    /// Whether users can currently sign in through this provider.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.disabled_at.is_none()
    }
}

/// What ties an account at an upstream provider (its subject) to a local user. A link may
/// exist before it has a user: the sign-in that found no account waits for the visitor to
/// register or to sign in, and links the account then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamLink {
    pub id: Ulid,
    /// The provider's [`UpstreamProvider::id`].
    pub provider_id: String,
    /// The account's stable identifier at the provider (the `sub` claim, or what the
    /// provider's subject template gives).
    pub subject: String,
    /// The local user, once linked.
    pub user_id: Option<Ulid>,
    /// A name of the upstream account that a person recognises (an email, a username), to show
    /// beside the link.
    pub human_account_name: Option<String>,
    pub created_at: DateTime<Utc>,
}
