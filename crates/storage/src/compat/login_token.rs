//! The login tokens operators issue for bots.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{CompatLoginToken, User};
use ulid::Ulid;

use crate::StorageError;

/// Reads and writes [`CompatLoginToken`]s. Tokens are passed in clear and stored only as
/// their hash ([`hash_token`](portcullis_model::token::hash_token)).
#[async_trait]
pub trait CompatLoginTokenRepository: Send {
    /// Stores a token for `user` (only for `device_id`, if given) that expires at `expires_at`.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the same token already exists.
    async fn add(
        &mut self,
        user: &User,
        login_token: &str,
        device_id: Option<&str>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<CompatLoginToken, StorageError>;

    /// The token with this id, if any, whatever its state.
    async fn find(&mut self, id: Ulid) -> Result<Option<CompatLoginToken>, StorageError>;

    /// The token `login_token`, if any, whatever its state.
    async fn find_by_token(
        &mut self,
        login_token: &str,
    ) -> Result<Option<CompatLoginToken>, StorageError>;

    /// Redeems the token `id` at `now` for session `session_id` (already stored), if it is
    /// neither redeemed nor expired; `None` means refused. One conditional update: of several
    /// requests racing with the same token, on any number of processes sharing the database,
    /// exactly one gets it.
    async fn consume(
        &mut self,
        id: Ulid,
        session_id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatLoginToken>, StorageError>;

    /// Deletes the tokens that expired before `before`; how many.
    async fn delete_expired_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;
}
