//! Policy data pushed through the Admin API.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ulid::Ulid;

use crate::StorageError;

/// One version of the dynamic policy data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyData {
    pub id: Ulid,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Reads and writes [`PolicyData`]; the newest is the one in effect.
#[async_trait]
pub trait PolicyDataRepository: Send {
    /// Stores a new version at `now`.
    async fn add(
        &mut self,
        data: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<PolicyData, StorageError>;

    /// The newest version, if any.
    async fn latest(&mut self) -> Result<Option<PolicyData>, StorageError>;

    /// The version with this id, if any.
    async fn find(&mut self, id: Ulid) -> Result<Option<PolicyData>, StorageError>;

    /// Deletes the versions a newer one replaced before `before` (the latest always stays);
    /// returns how many.
    async fn delete_replaced_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;
}
