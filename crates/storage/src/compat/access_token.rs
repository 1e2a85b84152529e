//! The compatibility access tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{CompatAccessToken, CompatSession, User};
use ulid::Ulid;

use crate::StorageError;

/// A compatibility access token accepted at some instant, with everything introspection
/// answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveCompatAccessToken {
    /// The token: neither revoked nor expired.
    pub access_token: CompatAccessToken,
    /// Its session: not finished.
    pub session: CompatSession,
    /// The session's user, in whatever state: the caller refuses a locked or deactivated one
    /// ([`User::is_active`]).
    pub user: User,
}

/// Reads and writes [`CompatAccessToken`]s.
///
/// Tokens are passed in clear and stored only as their hash
/// ([`hash_token`](portcullis_model::token::hash_token)).
#[async_trait]
pub trait CompatAccessTokenRepository: Send {
    /// Stores a new token of `session`, accepted until `expires_at` (`None`: no expiry).
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the same token already exists.
    async fn add(
        &mut self,
        session: &CompatSession,
        token: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<CompatAccessToken, StorageError>;

    /// The token with this id, if any, whatever its state.
    async fn find(&mut self, id: Ulid) -> Result<Option<CompatAccessToken>, StorageError>;

    /// The token whose clear value is `token`, if any, whatever its state.
    async fn find_by_token(
        &mut self,
        token: &str,
    ) -> Result<Option<CompatAccessToken>, StorageError>;

    /// The token whose clear value is `token`, if it is accepted at `now` (not revoked, not
    /// expired, its session not finished), with its session and user.
    ///
    /// This is introspection's hot path: one indexed read, which writes nothing.
    async fn find_active_by_token(
        &mut self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ActiveCompatAccessToken>, StorageError>;

    /// Revokes the token at `now` (a token already revoked keeps its first instant); `None` if
    /// there is no such token.
    async fn revoke(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatAccessToken>, StorageError>;
}
