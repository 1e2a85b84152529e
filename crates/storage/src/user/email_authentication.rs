//! The codes sent to email addresses to verify them.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use portcullis_model::UserEmailAuthentication;
use ulid::Ulid;

use crate::StorageError;

/// Reads and writes [`UserEmailAuthentication`]s.
///
/// Codes are passed in clear and stored only as their hash
/// ([`hash_token`](portcullis_model::token::hash_token)).
#[async_trait]
pub trait UserEmailAuthenticationRepository: Send {
    /// Stores a new code for `email`, valid for `ttl` from `now`; `user_id` is the user adding
    /// the address, `None` for a registration.
    async fn add(
        &mut self,
        email: &str,
        code: &str,
        user_id: Option<Ulid>,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<UserEmailAuthentication, StorageError>;

    /// The authentication with this id, if any.
    async fn find(&mut self, id: Ulid) -> Result<Option<UserEmailAuthentication>, StorageError>;

    /// Counts one more submitted code and returns the new count; `None` if there is no such
    /// authentication.
    async fn record_attempt(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<u32>, StorageError>;

    /// Completes the authentication if `code` is its code, it has not expired at `now`, is not
    /// completed yet, and at most `max_attempts` codes were submitted (this one included);
    /// `None` means refused.
    ///
    /// This is a single conditional update: a code is accepted once.
    async fn complete(
        &mut self,
        id: Ulid,
        code: &str,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<UserEmailAuthentication>, StorageError>;

    /// Deletes the authentications that expired before `before`, completed or not, and with
    /// them the registrations that were waiting on them; returns how many authentications.
    async fn delete_expired_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;
}
