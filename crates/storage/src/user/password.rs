//! The users' password hashes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{User, UserPassword};

use crate::StorageError;

/// Reads and writes [`UserPassword`]s. Passwords are only ever added: the newest is the
/// user's password.
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
}
