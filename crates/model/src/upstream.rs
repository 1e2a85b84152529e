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

/// One sign-in attempt through an upstream provider, from the authorization request to the
/// moment it signs someone in (or registers them).
///
/// It is pending until the provider's answer is checked (`completed_at`), then completed —
/// holding the account's link, the ID token and the claims — until the visitor uses it, once
/// (`consumed_at`). The `state` of the request finds it at the callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamAuthorizationSession {
    pub id: Ulid,
    pub provider_id: String,
    /// The `state` sent to the provider (unique).
    pub state: String,
    /// The `nonce` the ID token must carry, when one was asked for.
    pub nonce: Option<String>,
    /// The PKCE verifier, kept for the token request.
    #[serde(skip)]
    pub code_verifier: Option<String>,
    /// Where the visitor goes once signed in (what they were doing: an authorization request,
    /// a single sign-on login of the Matrix API...), as the sign-in pages encode it.
    pub post_auth_action: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    /// The account at the provider, once the answer is checked.
    pub link_id: Option<Ulid>,
    /// The ID token, kept to match a back-channel logout and as `id_token_hint`.
    #[serde(skip)]
    pub id_token: Option<String>,
    /// The claims the templates read: of the ID token, of userinfo, and the callback's
    /// extra parameters.
    pub id_token_claims: Option<serde_json::Value>,
    pub userinfo_claims: Option<serde_json::Value>,
    pub extra_callback_parameters: Option<serde_json::Value>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The browser session it signed in, once used.
    pub user_session_id: Option<Ulid>,
    pub consumed_at: Option<DateTime<Utc>>,
}

/// What a checked answer of the provider brings to its authorization session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamAnswer {
    pub link_id: Ulid,
    pub id_token: Option<String>,
    pub id_token_claims: Option<serde_json::Value>,
    pub userinfo_claims: Option<serde_json::Value>,
    pub extra_callback_parameters: Option<serde_json::Value>,
}
