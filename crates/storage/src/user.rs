//! The users.

pub mod email;
pub mod email_authentication;
pub mod password;
pub mod recovery_ticket;
pub mod registration;
pub mod registration_token;
pub mod session;
pub mod terms;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::User;
use ulid::Ulid;

use crate::StorageError;

/// Reads and writes [`User`]s.
#[async_trait]
pub trait UserRepository: Send {
    /// Creates a user named `username`, created at `now`.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the username is taken.
    async fn add(&mut self, username: &str, now: DateTime<Utc>) -> Result<User, StorageError>;

    /// The user with this id, if any.
    async fn find_by_id(&mut self, id: Ulid) -> Result<Option<User>, StorageError>;

    /// The user with this exact username, if any.
    async fn find_by_username(&mut self, username: &str) -> Result<Option<User>, StorageError>;

    /// Up to `limit` users, oldest first.
    async fn list(&mut self, limit: usize) -> Result<Vec<User>, StorageError>;

    /// Locks the user at `now`; a user already locked keeps their original lock instant.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] if the user no longer exists.
    async fn lock(&mut self, user: User, now: DateTime<Utc>) -> Result<User, StorageError>;

    /// Unlocks the user.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] if the user no longer exists.
    async fn unlock(&mut self, user: User) -> Result<User, StorageError>;

    /// Deactivates the user at `now`: the account can never sign in again unless reactivated.
    /// A user already deactivated keeps their original instant.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] if the user no longer exists.
    async fn deactivate(&mut self, user: User, now: DateTime<Utc>) -> Result<User, StorageError>;

    /// Undoes [`UserRepository::deactivate`] (a lock, if any, stays).
    ///
    /// # Errors
    /// [`StorageError::NotFound`] if the user no longer exists.
    async fn reactivate(&mut self, user: User) -> Result<User, StorageError>;

    /// Sets whether the user may ask for the admin scope.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] if the user no longer exists.
    async fn set_can_request_admin(
        &mut self,
        user: User,
        can_request_admin: bool,
    ) -> Result<User, StorageError>;
}
