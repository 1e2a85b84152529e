//! The browser sessions, and how each proved who its user is.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{Authentication, AuthenticationKind, BrowserSession, User};
use ulid::Ulid;

use crate::StorageError;

/// Reads and writes [`BrowserSession`]s and their [`Authentication`]s.
#[async_trait]
pub trait BrowserSessionRepository: Send {
    /// Starts a session for `user` at `now`, from a browser that sent `user_agent`.
    async fn add(
        &mut self,
        user: &User,
        user_agent: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<BrowserSession, StorageError>;

    /// The session with this id, if any, finished or not.
    async fn find(&mut self, id: Ulid) -> Result<Option<BrowserSession>, StorageError>;

    /// Ends the session at `now` (a session already finished keeps its first instant); `None`
    /// if there is no such session.
    async fn finish(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<BrowserSession>, StorageError>;

    /// The user's sessions that are not finished, oldest first.
    async fn list_active_for_user(
        &mut self,
        user: &User,
    ) -> Result<Vec<BrowserSession>, StorageError>;

    /// Records that the user of `session` proved who they are at `now`, by typing their
    /// password or by signing in at an upstream provider.
    async fn authenticate(
        &mut self,
        session: &BrowserSession,
        kind: AuthenticationKind,
        now: DateTime<Utc>,
    ) -> Result<Authentication, StorageError>;

    /// When the user of `session` last proved their identity, if ever: what `max_age` and
    /// `prompt=login` are checked against.
    async fn last_authentication(
        &mut self,
        session: &BrowserSession,
    ) -> Result<Option<DateTime<Utc>>, StorageError>;

    /// One page of the sessions `filter` holds, oldest first.
    async fn list_page(
        &mut self,
        filter: &crate::SessionFilter,
        pagination: crate::Pagination,
    ) -> Result<crate::Page<BrowserSession>, StorageError>;

    /// How many sessions `filter` holds.
    async fn count(&mut self, filter: &crate::SessionFilter) -> Result<usize, StorageError>;
}
