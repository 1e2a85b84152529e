//! Second factors: a TOTP authenticator and single-use recovery codes per user.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{User, UserTotp};

use crate::StorageError;

/// Reads and writes each user's [`UserTotp`].
#[async_trait]
pub trait UserTotpRepository: Send {
    /// Starts an enrolment of `user` with `encrypted_secret`, replacing an enrolment that was
    /// never confirmed; `None` when the user has a confirmed authenticator already (it must be
    /// removed first).
    async fn start(
        &mut self,
        user: &User,
        encrypted_secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserTotp>, StorageError>;

    /// The authenticator of `user`, confirmed or not.
    async fn find(&mut self, user: &User) -> Result<Option<UserTotp>, StorageError>;

    /// Confirms the enrolment of `user`, the first code having been for `step`; `false` when
    /// there is nothing to confirm (no enrolment, or confirmed already).
    async fn confirm(
        &mut self,
        user: &User,
        step: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Records that a code of `step` was accepted for `user`'s confirmed authenticator;
    /// `false` when a code of that step or a later one was accepted already (a replay).
    ///
    /// This is a single conditional update: of two requests with the same code, one wins.
    async fn use_step(&mut self, user: &User, step: u64) -> Result<bool, StorageError>;

    /// Removes the authenticator of `user`; whether there was one.
    async fn remove(&mut self, user: &User) -> Result<bool, StorageError>;
}

/// Reads and writes each user's recovery codes. Codes are passed in clear and stored only as
/// their hash ([`hash_token`](portcullis_model::token::hash_token)).
#[async_trait]
pub trait UserRecoveryCodeRepository: Send {
    /// Replaces every recovery code of `user` with `codes`.
    async fn replace(
        &mut self,
        user: &User,
        codes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Uses `code` of `user` if it is one of theirs and unused; `false` otherwise.
    ///
    /// This is a single conditional update: a code is used once, however many submit it.
    async fn consume(
        &mut self,
        user: &User,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// How many of `user`'s codes are left unused.
    async fn count_unused(&mut self, user: &User) -> Result<u64, StorageError>;

    /// Deletes every recovery code of `user`; how many there were.
    async fn remove_all(&mut self, user: &User) -> Result<u64, StorageError>;
}
