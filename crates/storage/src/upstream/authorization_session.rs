//! Sign-in attempts through upstream providers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{UpstreamAnswer, UpstreamAuthorizationSession};
use ulid::Ulid;

use crate::StorageError;

/// An attempt to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpstreamAuthorizationSession {
    pub provider_id: String,
    pub state: String,
    pub nonce: Option<String>,
    pub code_verifier: Option<String>,
    pub post_auth_action: Option<serde_json::Value>,
}

/// Reads and writes [`UpstreamAuthorizationSession`]s. Completing and consuming are each
/// allowed once, by one conditional update: a replayed answer or a second use finds `None`.
#[async_trait]
pub trait UpstreamAuthorizationSessionRepository: Send {
    /// Records a pending attempt.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the `state` is already in use.
    async fn add(
        &mut self,
        session: &NewUpstreamAuthorizationSession,
        now: DateTime<Utc>,
    ) -> Result<UpstreamAuthorizationSession, StorageError>;

    /// The attempt with this id, if any.
    async fn find(
        &mut self,
        id: Ulid,
    ) -> Result<Option<UpstreamAuthorizationSession>, StorageError>;

    /// The provider's attempt whose request carried `state`, if any.
    async fn find_by_state(
        &mut self,
        provider_id: &str,
        state: &str,
    ) -> Result<Option<UpstreamAuthorizationSession>, StorageError>;

    /// Stores the checked answer of a pending attempt; `None` if it was no longer pending.
    async fn complete(
        &mut self,
        id: Ulid,
        answer: &UpstreamAnswer,
        now: DateTime<Utc>,
    ) -> Result<Option<UpstreamAuthorizationSession>, StorageError>;

    /// Marks a completed attempt used, by the browser session it signed in; `None` if it was
    /// not completed or already used.
    async fn consume(
        &mut self,
        id: Ulid,
        user_session_id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<UpstreamAuthorizationSession>, StorageError>;

    /// Deletes the attempts started before `before` that never signed anyone in (abandoned at
    /// the provider, or answered and left); how many.
    async fn delete_unused_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;

    /// The browser sessions, still open, that the provider's sign-ins began or re-authenticated
    /// with an ID token of this `sub` and/or `sid` (both must match when both are given; with
    /// neither, none).
    async fn open_sessions_signed_in_by(
        &mut self,
        provider_id: &str,
        sub: Option<&str>,
        sid: Option<&str>,
    ) -> Result<Vec<Ulid>, StorageError>;
}
