//! Upstream OpenID Connect / OAuth 2.0 providers users can sign in with.

use chrono::{DateTime, Utc};
use serde::Serialize;

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
