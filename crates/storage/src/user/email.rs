//! The users' email addresses.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{User, UserEmail};
use ulid::Ulid;

use crate::StorageError;

/// Which addresses a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserEmailFilter {
    pub user: Option<Ulid>,
    /// The address, compared ignoring case.
    pub email: Option<String>,
}

/// Reads and writes [`UserEmail`]s. Addresses are compared case-insensitively
/// ([`UserEmail::normalize`]), and one address belongs to one user at most.
#[async_trait]
pub trait UserEmailRepository: Send {
    /// Adds `email` to the user's addresses.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the address, in any case, is already someone's (the same
    /// user's included).
    async fn add(
        &mut self,
        user: &User,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<UserEmail, StorageError>;

    /// The address equal to `email` ignoring case, if any: whose address it is (e.g. for a
    /// `login_hint`).
    async fn find_by_email(&mut self, email: &str) -> Result<Option<UserEmail>, StorageError>;

    /// The user's addresses, oldest first.
    async fn list_for_user(&mut self, user: &User) -> Result<Vec<UserEmail>, StorageError>;

    /// Removes the address; `false` if there was none.
    async fn remove(&mut self, id: Ulid) -> Result<bool, StorageError>;

    /// The address with this id, if any.
    async fn find(&mut self, id: Ulid) -> Result<Option<UserEmail>, StorageError>;

    /// One page of the addresses `filter` holds, oldest first.
    async fn list_page(
        &mut self,
        filter: &UserEmailFilter,
        pagination: crate::Pagination,
    ) -> Result<crate::Page<UserEmail>, StorageError>;

    /// How many addresses `filter` holds.
    async fn count(&mut self, filter: &UserEmailFilter) -> Result<usize, StorageError>;
}
