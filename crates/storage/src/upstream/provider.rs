//! The upstream providers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::UpstreamProvider;

use crate::StorageError;

/// Reads and writes [`UpstreamProvider`]s.
#[async_trait]
pub trait UpstreamProviderRepository: Send {
    /// Stores a provider from the configuration file, replacing every setting of the provider
    /// with the same id (including `disabled_at`, so a provider back in the file is enabled
    /// again) but keeping its original `created_at`.
    async fn upsert(
        &mut self,
        provider: &UpstreamProvider,
    ) -> Result<UpstreamProvider, StorageError>;

    /// The provider with this id, if any.
    async fn find(&mut self, id: &str) -> Result<Option<UpstreamProvider>, StorageError>;

    /// Every provider, enabled or not, ordered by id.
    async fn list(&mut self) -> Result<Vec<UpstreamProvider>, StorageError>;

    /// Disables the provider at `now` (one already disabled keeps its first instant); `None` if
    /// there is no such provider.
    async fn disable(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UpstreamProvider>, StorageError>;

    /// Deletes the provider; `false` if there was none.
    async fn delete(&mut self, id: &str) -> Result<bool, StorageError>;
}
