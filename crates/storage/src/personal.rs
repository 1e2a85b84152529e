//! Personal sessions and their personal access tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{PersonalAccessToken, PersonalSession, PersonalSessionOwner, User};
use portcullis_oauth::scope::Scope;
use ulid::Ulid;

use crate::{Page, Pagination, StorageError};

/// A personal session to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPersonalSession {
    pub owner: PersonalSessionOwner,
    pub actor_user_id: Ulid,
    pub human_name: String,
    pub scope: Scope,
}

/// A personal access token accepted at some instant, with what introspection answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivePersonalAccessToken {
    /// The token: neither revoked nor expired.
    pub token: PersonalAccessToken,
    /// Its session: not revoked.
    pub session: PersonalSession,
    /// The actor, in whatever state: the caller refuses a locked or deactivated one.
    pub actor: User,
    /// The owner, for a user's session, in whatever state.
    pub owner_user: Option<User>,
}

/// Which personal sessions a list holds; every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonalSessionFilter {
    pub owner_user: Option<Ulid>,
    pub owner_client: Option<Ulid>,
    pub actor_user: Option<Ulid>,
    /// Sessions whose scope holds every token of this one.
    pub scope: Option<Scope>,
    /// `Some(true)`: standing; `Some(false)`: revoked.
    pub active: Option<bool>,
    /// Whose live token expires before this instant.
    pub expires_before: Option<DateTime<Utc>>,
    /// Whose live token expires after this instant.
    pub expires_after: Option<DateTime<Utc>>,
    /// `Some(true)`: whose live token expires at all; `Some(false)`: never.
    pub expires: Option<bool>,
}

/// Reads and writes [`PersonalSession`]s and their tokens.
///
/// Tokens are passed in clear and stored only as their hash.
#[async_trait]
pub trait PersonalSessionRepository: Send {
    /// Starts a session at `now`, without a token yet.
    async fn add(
        &mut self,
        session: &NewPersonalSession,
        now: DateTime<Utc>,
    ) -> Result<PersonalSession, StorageError>;

    /// The session with this id, if any, whatever its state.
    async fn find(&mut self, id: Ulid) -> Result<Option<PersonalSession>, StorageError>;

    /// Revokes the session and its tokens at `now` (a session already revoked keeps its first
    /// instant); `None` if there is no such session.
    async fn revoke(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<PersonalSession>, StorageError>;

    /// Gives the session a new token, accepted until `expires_at` (`None`: no expiry), and
    /// revokes the one it had: a session has at most one live token.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the same token already exists.
    async fn add_token(
        &mut self,
        session: &PersonalSession,
        token: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<PersonalAccessToken, StorageError>;

    /// The token whose clear value is `token`, if it is accepted at `now` (not revoked, not
    /// expired, its session not revoked), with its session, actor and owner: one read.
    async fn find_active_by_token(
        &mut self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ActivePersonalAccessToken>, StorageError>;

    /// One page of the sessions `filter` holds, oldest first.
    async fn list_page(
        &mut self,
        filter: &PersonalSessionFilter,
        pagination: Pagination,
    ) -> Result<Page<PersonalSession>, StorageError>;

    /// How many sessions `filter` holds.
    async fn count(&mut self, filter: &PersonalSessionFilter) -> Result<usize, StorageError>;
}
