//! Third-party ids other than email addresses, kept from Synapse.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::User;

use crate::StorageError;

/// Keeps the third-party ids (a `medium` such as `msisdn`, and an address) that users had on
/// Synapse and that this service does not use.
#[async_trait]
pub trait UserThirdPartyIdRepository: Send {
    /// Keeps `address` of `medium` for `user` (the same one again keeps the first instant).
    async fn add(
        &mut self,
        user: &User,
        medium: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Removes every third-party id of the user (a deactivation); how many there were.
    async fn remove_all_for_user(&mut self, user: &User) -> Result<usize, StorageError>;

    /// The user's third-party ids, as (medium, address), oldest first.
    async fn list_for_user(&mut self, user: &User) -> Result<Vec<(String, String)>, StorageError>;
}
