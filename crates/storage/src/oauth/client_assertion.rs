//! The identifiers of the client assertions already accepted.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::OAuthClient;

use crate::StorageError;

/// Remembers the `jti` of every JWT a client authenticated with (`client_secret_jwt`,
/// `private_key_jwt`) until the JWT expires, so that the same JWT is accepted once only
/// (RFC 7523 §3 item 7).
#[async_trait]
pub trait ClientAssertionRepository: Send {
    /// Records that `client` presented an assertion with this `jti`, valid until
    /// `expires_at`, and returns whether it is the first time. The client's entries that have
    /// expired by `now` are forgotten on the way: their assertions are refused for their `exp`.
    ///
    /// One conditional insert: of two requests racing with the same assertion, exactly one is
    /// told it is the first.
    async fn record_jti(
        &mut self,
        client: &OAuthClient,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}
