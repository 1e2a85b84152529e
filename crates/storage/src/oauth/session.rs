//! The OAuth 2.0 sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{OAuthSession, User};
use portcullis_oauth::scope::Scope;
use ulid::Ulid;

use crate::StorageError;

/// What a new session is made of; see [`OAuthSession`] for each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOAuthSession {
    /// The client's internal id.
    pub client_id: Ulid,
    /// The user the client acts for; `None` for `client_credentials`.
    pub user_id: Option<Ulid>,
    /// The browser session in which the user granted it.
    pub user_session_id: Option<Ulid>,
    /// The scope granted.
    pub scope: Scope,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// A name the user can recognise.
    pub human_name: Option<String>,
}

/// Which OAuth 2.0 sessions a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuthSessionFilter {
    pub session: crate::SessionFilter,
    /// Sessions started from this browser session.
    pub user_session: Option<Ulid>,
    /// Sessions of this client (by internal id).
    pub client: Option<Ulid>,
    /// `Some(true)`: of static clients; `Some(false)`: of dynamically registered ones.
    pub static_client: Option<bool>,
    /// Sessions whose scope holds every token of this one.
    pub scope: Option<portcullis_oauth::scope::Scope>,
}

/// Reads and writes [`OAuthSession`]s.
#[async_trait]
pub trait OAuthSessionRepository: Send {
    /// Starts a session at `now`.
    async fn add(
        &mut self,
        session: &NewOAuthSession,
        now: DateTime<Utc>,
    ) -> Result<OAuthSession, StorageError>;

    /// The session with this id, if any, finished or not.
    async fn find(&mut self, id: Ulid) -> Result<Option<OAuthSession>, StorageError>;

    /// Ends the session at `now` (a session already finished keeps its first instant); `None`
    /// if there is no such session. Its tokens are refused from then on.
    async fn finish(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<OAuthSession>, StorageError>;

    /// The user's sessions that are not finished, oldest first.
    async fn list_active_for_user(
        &mut self,
        user: &User,
    ) -> Result<Vec<OAuthSession>, StorageError>;

    /// One page of the sessions `filter` holds, oldest first.
    async fn list_page(
        &mut self,
        filter: &OAuthSessionFilter,
        pagination: crate::Pagination,
    ) -> Result<crate::Page<OAuthSession>, StorageError>;

    /// How many sessions `filter` holds.
    async fn count(&mut self, filter: &OAuthSessionFilter) -> Result<usize, StorageError>;
}
