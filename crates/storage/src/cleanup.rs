//! The deletions of MAS's retention rules: rows that can no longer be used, kept a while to
//! explain recent events, then deleted by the recurring clean-up jobs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StorageError;

/// Deletes what the retention rules let go. Each method deletes (or clears) the rows of one
/// rule older than `before` and returns how many.
#[async_trait]
pub trait CleanupRepository: Send {
    /// OAuth 2.0 access tokens revoked before `before`.
    async fn revoked_access_tokens(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;

    /// OAuth 2.0 access tokens that expired before `before`.
    async fn expired_access_tokens(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;

    /// OAuth 2.0 refresh tokens revoked before `before`.
    async fn revoked_refresh_tokens(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;

    /// OAuth 2.0 refresh tokens exchanged before `before`.
    async fn consumed_refresh_tokens(&mut self, before: DateTime<Utc>)
    -> Result<u64, StorageError>;

    /// Compatibility sessions finished before `before`, with their tokens.
    async fn finished_compat_sessions(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    /// OAuth 2.0 sessions finished before `before`, with their tokens.
    async fn finished_oauth_sessions(&mut self, before: DateTime<Utc>)
    -> Result<u64, StorageError>;

    /// Browser sessions finished before `before` from which no session (OAuth 2.0 or
    /// compatibility) was started that is still kept.
    async fn finished_browser_sessions(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    /// Clears the last address of the sessions of every kind neither used nor started since
    /// `before`.
    async fn inactive_session_addresses(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    /// Authorization grants (and their codes) created before `before`.
    async fn authorization_grants(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;

    /// Device authorization grants created before `before`.
    async fn device_code_grants(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;

    /// Links to an upstream account never tied to a user, created before `before`.
    async fn orphaned_upstream_links(&mut self, before: DateTime<Utc>)
    -> Result<u64, StorageError>;

    /// Registrations started before `before` (finished or not).
    async fn user_registrations(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;
}
