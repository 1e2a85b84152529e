//! The users' password hashes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{User, UserPassword};

use crate::StorageError;

/// Reads and writes [`UserPassword`]s. Passwords are added, never changed: the newest is the
/// user's password. They are removed all at once, when the user gives up their password for
/// their passkeys.
#[async_trait]
pub trait UserPasswordRepository: Send {
    /// Stores `hashed_password`, hashed with the scheme of `version`, as the user's password
    /// from `now` on. `upgraded_from` is the password it re-hashes, when it is an upgrade of the
    /// scheme rather than a new password.
    async fn add(
        &mut self,
        user: &User,
        hashed_password: &str,
        version: u32,
        upgraded_from: Option<&UserPassword>,
        now: DateTime<Utc>,
    ) -> Result<UserPassword, StorageError>;

    /// The user's password: the newest one stored, if any.
    async fn active(&mut self, user: &User) -> Result<Option<UserPassword>, StorageError>;

    /// Removes every password of the user (the newest and the ones it replaced); how many.
    async fn remove_all(&mut self, user: &User) -> Result<u64, StorageError>;
}
