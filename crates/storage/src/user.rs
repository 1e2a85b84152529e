//! The users.

pub mod email;
pub mod email_authentication;
pub mod password;
pub mod recovery_ticket;
pub mod registration;
pub mod registration_token;
pub mod second_factor;
pub mod session;
pub mod terms;
pub mod third_party_id;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::User;
use ulid::Ulid;

use crate::{Page, Pagination, StorageError};

/// Which users a list holds; every condition set must hold (`None` and empty mean any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Whether the user may ask for the admin scope.
    pub can_request_admin: Option<bool>,
    /// Legacy guests (users Synapse made as guests); none exist here yet.
    pub legacy_guest: Option<bool>,
    /// Part of the username, in any case.
    pub search: Option<String>,
    pub state: Option<UserState>,
    /// Users with an unfinished OAuth 2.0 session of one of these clients (by internal id).
    pub active_oauth2_clients: Vec<Ulid>,
    pub has_active_oauth2_session: Option<bool>,
    pub has_active_compat_session: Option<bool>,
}

/// The state of an account, as lists filter on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserState {
    /// Neither locked nor deactivated.
    Active,
    /// Locked (whether deactivated or not).
    Locked,
    /// Deactivated (whether locked or not).
    Deactivated,
}

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

    /// One page of the users `filter` holds, oldest first.
    async fn list_page(
        &mut self,
        filter: &UserFilter,
        pagination: Pagination,
    ) -> Result<Page<User>, StorageError>;

    /// How many users `filter` holds.
    async fn count(&mut self, filter: &UserFilter) -> Result<usize, StorageError>;

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

    /// Marks the user as a guest account moved from Synapse ([`User::legacy_guest`]).
    ///
    /// # Errors
    /// [`StorageError::NotFound`] if the user no longer exists.
    async fn mark_legacy_guest(&mut self, user: User) -> Result<User, StorageError>;
}
