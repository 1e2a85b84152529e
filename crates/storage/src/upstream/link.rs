//! The links between upstream accounts and local users.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{UpstreamLink, User};
use ulid::Ulid;

use crate::{Page, Pagination, StorageError};

/// Which links a list holds; every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamLinkFilter {
    pub user: Option<Ulid>,
    /// Links through one of these providers (none when the list is empty).
    pub providers: Option<Vec<String>>,
    /// This subject, exactly.
    pub subject: Option<String>,
    /// This human account name, exactly.
    pub human_account_name: Option<String>,
}

/// Reads and writes [`UpstreamLink`]s. A provider has at most one link per subject.
#[async_trait]
pub trait UpstreamLinkRepository: Send {
    /// Records the account `subject` at the provider, not linked to any user yet.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the provider already has a link for this subject.
    async fn add(
        &mut self,
        provider_id: &str,
        subject: &str,
        human_account_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<UpstreamLink, StorageError>;

    /// Links the upstream account to `user` (replacing any user it had).
    async fn associate(
        &mut self,
        link: UpstreamLink,
        user: &User,
    ) -> Result<UpstreamLink, StorageError>;

    /// Links the upstream account `id` to `user` if it is linked to nobody yet; `None` when
    /// it is unknown or already someone's (another request may have claimed it first).
    async fn claim(&mut self, id: Ulid, user: &User) -> Result<Option<UpstreamLink>, StorageError>;

    /// The link with this id, if any.
    async fn find(&mut self, id: Ulid) -> Result<Option<UpstreamLink>, StorageError>;

    /// The provider's link for `subject`, if any.
    async fn find_by_subject(
        &mut self,
        provider_id: &str,
        subject: &str,
    ) -> Result<Option<UpstreamLink>, StorageError>;

    /// Removes the link; `false` if there was none.
    async fn remove(&mut self, id: Ulid) -> Result<bool, StorageError>;

    /// One page of the links `filter` holds, oldest first.
    async fn list_page(
        &mut self,
        filter: &UpstreamLinkFilter,
        pagination: Pagination,
    ) -> Result<Page<UpstreamLink>, StorageError>;

    /// How many links `filter` holds.
    async fn count(&mut self, filter: &UpstreamLinkFilter) -> Result<usize, StorageError>;
}
