//! OAuth 2.0 clients.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ulid::Ulid;

/// An OAuth 2.0 client, either declared in the configuration file (static) or registered
/// dynamically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthClient {
    /// Internal identifier.
    pub id: Ulid,
    /// The public `client_id` the client presents.
    pub client_id: String,
    /// Whether the client comes from the configuration file; `config sync` only ever touches
    /// these.
    pub is_static: bool,
    /// The `token_endpoint_auth_method` (`none`, `client_secret_basic`, `client_secret_post`,
    /// `client_secret_jwt`, `private_key_jwt`).
    pub client_auth_method: String,
    /// The client secret, encrypted by the caller with the configured key; opaque here.
    pub encrypted_client_secret: Option<String>,
    /// The allowed redirect URIs, in their configured order.
    pub redirect_uris: Vec<String>,
    /// A name to show to users.
    pub client_name: Option<String>,
    /// The client's home page.
    pub client_uri: Option<String>,
    /// The client's public keys, inline (for `private_key_jwt`).
    pub jwks: Option<serde_json::Value>,
    /// Where to fetch the client's public keys (for `private_key_jwt`).
    pub jwks_uri: Option<String>,
    /// The grant types the client may use.
    pub grant_types: Vec<String>,
    /// When the client was first stored.
    pub created_at: DateTime<Utc>,
}
