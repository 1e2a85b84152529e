//! The password recovery tickets.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use portcullis_model::{User, UserRecoveryTicket};

use crate::StorageError;

/// Reads and writes [`UserRecoveryTicket`]s.
///
/// Tickets are passed in clear and stored only as their hash
/// ([`hash_token`](portcullis_model::token::hash_token)).
#[async_trait]
pub trait UserRecoveryTicketRepository: Send {
    /// Stores a new `ticket` for `user`, sent to `email`, valid for `ttl` from `now`.
    async fn add(
        &mut self,
        user: &User,
        email: &str,
        ticket: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<UserRecoveryTicket, StorageError>;

    /// The ticket whose clear value is `ticket`, if any, used or not.
    async fn find_by_ticket(
        &mut self,
        ticket: &str,
    ) -> Result<Option<UserRecoveryTicket>, StorageError>;

    /// Uses the ticket if it is unused and not expired at `now`; `None` means refused.
    ///
    /// This is a single conditional update: a ticket is used once, however many submit it.
    async fn consume(
        &mut self,
        ticket: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserRecoveryTicket>, StorageError>;

    /// Deletes the tickets that expired before `before`, used or not; returns how many.
    async fn delete_expired_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;
}
