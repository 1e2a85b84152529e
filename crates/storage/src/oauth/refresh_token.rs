//! The OAuth 2.0 refresh tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{AccessToken, OAuthSession, RefreshToken};
use ulid::Ulid;

use crate::StorageError;

/// Reads and writes [`RefreshToken`]s.
///
/// Tokens are passed in clear and stored only as their hash
/// ([`hash_token`](portcullis_model::token::hash_token)).
#[async_trait]
pub trait RefreshTokenRepository: Send {
    /// Stores a new, valid token of `session`, issued with `access_token`.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the same token already exists.
    async fn add(
        &mut self,
        session: &OAuthSession,
        token: &str,
        access_token: Option<&AccessToken>,
        now: DateTime<Utc>,
    ) -> Result<RefreshToken, StorageError>;

    /// The token with this id, if any, whatever its state.
    async fn find(&mut self, id: Ulid) -> Result<Option<RefreshToken>, StorageError>;

    /// The token whose clear value is `token`, if any, whatever its state: after a failed
    /// [`consume`](Self::consume), this tells a replayed token from an unknown one.
    async fn find_by_token(&mut self, token: &str) -> Result<Option<RefreshToken>, StorageError>;

    /// Consumes the token at `now`, if it is valid, recording `next_refresh_token_id` (which
    /// must already be stored) as its successor; `None` means refused (unknown, consumed
    /// before, or revoked).
    ///
    /// This is a single conditional update: of several requests racing with the same token,
    /// exactly one gets it.
    async fn consume(
        &mut self,
        token: &str,
        next_refresh_token_id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<RefreshToken>, StorageError>;

    /// Revokes the token at `now` (a token already revoked keeps its first instant); `None` if
    /// there is no such token.
    async fn revoke(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<RefreshToken>, StorageError>;

    /// Revokes at `now` every refresh token (valid or consumed) and every access token of
    /// `session` not yet revoked, and returns how many tokens of both kinds it revoked.
    ///
    /// This is the answer to a refresh token replayed by someone who should not have it
    /// (RFC 9700 §4.14.2): the whole family of tokens goes.
    async fn revoke_all_for_session(
        &mut self,
        session: &OAuthSession,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError>;
}
