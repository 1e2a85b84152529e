//! The terms of service users accepted.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::User;

use crate::StorageError;

/// Records which terms of service (by URL) a user accepted, and when.
#[async_trait]
pub trait UserTermsRepository: Send {
    /// Records that `user` accepted the terms at `terms_url` at `now`. Accepting the same terms
    /// again keeps the first instant.
    async fn accept(
        &mut self,
        user: &User,
        terms_url: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// The terms `user` accepted, with when, oldest first.
    async fn list_for_user(
        &mut self,
        user: &User,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StorageError>;
}
