//! The tokens that allow registering an account.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::RegistrationToken;
use ulid::Ulid;

use crate::StorageError;

/// What an update changes: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationTokenChange {
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub usage_limit: Option<Option<u32>>,
}

/// Which tokens a list holds; every condition set must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationTokenFilter {
    /// Used at least once.
    pub used: Option<bool>,
    pub revoked: Option<bool>,
    /// Expired at `now`.
    pub expired: Option<bool>,
    /// Accepted at `now`: not revoked, not expired, not used up.
    pub valid: Option<bool>,
    /// The instant `expired` and `valid` are judged at.
    pub now: DateTime<Utc>,
}

/// Reads and writes [`RegistrationToken`]s.
///
/// Tokens are passed in clear, and kept in clear beside their hash
/// ([`hash_token`](portcullis_model::token::hash_token)), which lookups use.
#[async_trait]
pub trait RegistrationTokenRepository: Send {
    /// Stores a new token.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the same token already exists.
    async fn add(
        &mut self,
        token: &str,
        usage_limit: Option<u32>,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<RegistrationToken, StorageError>;

    /// The token with this id, if any.
    async fn find(&mut self, id: Ulid) -> Result<Option<RegistrationToken>, StorageError>;

    /// The token whose clear value is `token`, if any, whatever its state.
    async fn find_by_token(
        &mut self,
        token: &str,
    ) -> Result<Option<RegistrationToken>, StorageError>;

    /// Uses the token once, if it is still valid at `now` (not revoked, not expired, not used
    /// up), and returns it as updated; `None` means refused.
    ///
    /// This is a single conditional update: when several registrations race for the last use,
    /// exactly one gets it.
    async fn consume(
        &mut self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<RegistrationToken>, StorageError>;

    /// As [`consume`](Self::consume), for the token with this id.
    async fn consume_by_id(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<RegistrationToken>, StorageError>;

    /// Revokes the token at `now` (a token already revoked keeps its first revocation
    /// instant); `None` if there is no such token.
    async fn revoke(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<RegistrationToken>, StorageError>;

    /// Lifts a revocation; `None` if there is no such token.
    async fn unrevoke(&mut self, id: Ulid) -> Result<Option<RegistrationToken>, StorageError>;

    /// Changes the expiry and the usage limit; `None` if there is no such token.
    async fn update(
        &mut self,
        id: Ulid,
        change: &RegistrationTokenChange,
    ) -> Result<Option<RegistrationToken>, StorageError>;

    /// One page of the tokens `filter` holds, oldest first.
    async fn list_page(
        &mut self,
        filter: &RegistrationTokenFilter,
        pagination: crate::Pagination,
    ) -> Result<crate::Page<RegistrationToken>, StorageError>;

    /// How many tokens `filter` holds.
    async fn count(&mut self, filter: &RegistrationTokenFilter) -> Result<usize, StorageError>;
}
