//! The compatibility refresh tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{CompatAccessToken, CompatRefreshToken, CompatSession};
use ulid::Ulid;

use crate::StorageError;

/// Reads and writes [`CompatRefreshToken`]s.
///
/// Tokens are passed in clear and stored only as their hash
/// ([`hash_token`](portcullis_model::token::hash_token)).
#[async_trait]
pub trait CompatRefreshTokenRepository: Send {
    /// Stores a new, valid token of `session`, issued with `access_token`.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the same token already exists.
    async fn add(
        &mut self,
        session: &CompatSession,
        token: &str,
        access_token: &CompatAccessToken,
        now: DateTime<Utc>,
    ) -> Result<CompatRefreshToken, StorageError>;

    /// The token with this id, if any, whatever its state.
    async fn find(&mut self, id: Ulid) -> Result<Option<CompatRefreshToken>, StorageError>;

    /// The token whose clear value is `token`, if any, whatever its state: after a failed
    /// [`consume`](Self::consume), this tells a replayed token from an unknown one.
    async fn find_by_token(
        &mut self,
        token: &str,
    ) -> Result<Option<CompatRefreshToken>, StorageError>;

    /// Consumes the token at `now`, if it is valid; `None` means refused (unknown, consumed
    /// before, or revoked).
    ///
    /// This is a single conditional update: of several requests racing with the same token,
    /// exactly one gets it.
    async fn consume(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatRefreshToken>, StorageError>;

    /// Revokes the token at `now` (a token already revoked keeps its first instant); `None` if
    /// there is no such token.
    async fn revoke(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatRefreshToken>, StorageError>;
}
