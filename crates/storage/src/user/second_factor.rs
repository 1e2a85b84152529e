//! Second factors: a TOTP authenticator, single-use recovery codes and passkeys per user, and
//! the passkey ceremonies under way.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{Ulid, User, UserPasskey, UserTotp};

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

/// A passkey to add: what the registration ceremony proved (see
/// [`UserPasskey`](portcullis_model::UserPasskey) for each field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPasskey {
    /// The credential ID, base64url.
    pub credential_id: String,
    /// The name the user gave it.
    pub name: String,
    /// The user handle, base64url.
    pub user_handle: String,
    /// Its static state, encoded.
    pub static_state: String,
    /// Its dynamic state, encoded.
    pub dynamic_state: String,
}

/// Reads and writes each user's passkeys.
#[async_trait]
pub trait UserPasskeyRepository: Send {
    /// Adds a passkey of `user`; `None` when a passkey with that credential ID exists already
    /// (the same authenticator registered twice).
    async fn add(
        &mut self,
        user: &User,
        passkey: NewPasskey,
        now: DateTime<Utc>,
    ) -> Result<Option<UserPasskey>, StorageError>;

    /// The passkeys of `user`, oldest first.
    async fn list(&mut self, user: &User) -> Result<Vec<UserPasskey>, StorageError>;

    /// The passkey with this credential ID (base64url), whoever's it is.
    async fn find_by_credential_id(
        &mut self,
        credential_id: &str,
    ) -> Result<Option<UserPasskey>, StorageError>;

    /// Records a sign-in with `passkey`: its new dynamic state and the time; `false` when it
    /// was removed meanwhile, or another sign-in updated it first (the stored state is no
    /// longer the one the ceremony started from).
    async fn record_use(
        &mut self,
        passkey: &UserPasskey,
        dynamic_state: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Removes the passkey `id` of `user`; whether there was one.
    async fn remove(&mut self, user: &User, id: Ulid) -> Result<bool, StorageError>;

    /// Removes every passkey of `user`; how many there were.
    async fn remove_all(&mut self, user: &User) -> Result<u64, StorageError>;
}

/// The WebAuthn ceremonies under way: the server's state of each, kept until its answer comes
/// back (from any process), and used once.
#[async_trait]
pub trait PasskeyChallengeRepository: Send {
    /// Keeps the `state` of the ceremony of `challenge` (base64url), started for `user` (adding
    /// a passkey) or for anyone (signing in).
    async fn add(
        &mut self,
        challenge: &str,
        user_id: Option<Ulid>,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Takes the ceremony of `challenge` if it started at or after `not_before`: its user and
    /// state. Taken once: a second answer to the same challenge finds nothing.
    async fn take(
        &mut self,
        challenge: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<(Option<Ulid>, String)>, StorageError>;

    /// Forgets the ceremonies started before `before` that nobody finished; how many.
    async fn remove_expired(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;
}
