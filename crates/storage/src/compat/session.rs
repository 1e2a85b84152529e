//! The compatibility sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{CompatSession, User};
use ulid::Ulid;

use crate::StorageError;

/// What a new session is made of; see [`CompatSession`] for each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCompatSession {
    /// The signed-in user.
    pub user_id: Ulid,
    /// The Matrix device id.
    pub device_id: String,
    /// A name the user can recognise.
    pub human_name: Option<String>,
    /// The browser session in which the user signed in, for a single sign-on login.
    pub user_session_id: Option<Ulid>,
    /// Whether the session may use the homeserver's admin API.
    pub is_synapse_admin: bool,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
}

/// Which compatibility sessions a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompatSessionFilter {
    pub session: crate::SessionFilter,
    /// Sessions started from this browser session (single sign-on).
    pub user_session: Option<Ulid>,
}

/// Reads and writes [`CompatSession`]s.
#[async_trait]
pub trait CompatSessionRepository: Send {
    /// Starts a session at `now`.
    async fn add(
        &mut self,
        session: &NewCompatSession,
        now: DateTime<Utc>,
    ) -> Result<CompatSession, StorageError>;

    /// The session with this id, if any, finished or not.
    async fn find(&mut self, id: Ulid) -> Result<Option<CompatSession>, StorageError>;

    /// Ends the session at `now` (a session already finished keeps its first instant); `None`
    /// if there is no such session. Its tokens are refused from then on.
    async fn finish(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatSession>, StorageError>;

    /// The user's sessions that are not finished, oldest first.
    async fn list_active_for_user(
        &mut self,
        user: &User,
    ) -> Result<Vec<CompatSession>, StorageError>;

    /// The sessions of user `user_id` on device `device_id` that are not finished, oldest
    /// first: a login that reuses a device id ends them.
    async fn list_active_for_device(
        &mut self,
        user_id: Ulid,
        device_id: &str,
    ) -> Result<Vec<CompatSession>, StorageError>;

    /// One page of the sessions `filter` holds, oldest first.
    async fn list_page(
        &mut self,
        filter: &CompatSessionFilter,
        pagination: crate::Pagination,
    ) -> Result<crate::Page<CompatSession>, StorageError>;

    /// How many sessions `filter` holds.
    async fn count(&mut self, filter: &CompatSessionFilter) -> Result<usize, StorageError>;
}
