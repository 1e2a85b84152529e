//! The single sign-on logins.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::CompatSsoLogin;
use ulid::Ulid;

use crate::StorageError;

/// Reads and writes [`CompatSsoLogin`]s.
///
/// Login tokens are passed in clear and stored only as their hash
/// ([`hash_token`](portcullis_model::token::hash_token)).
#[async_trait]
pub trait CompatSsoLoginRepository: Send {
    /// Stores a pending login, whose token is `login_token` and whose client waits at
    /// `redirect_uri`.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the same login token already exists.
    async fn add(
        &mut self,
        login_token: &str,
        redirect_uri: &url::Url,
        now: DateTime<Utc>,
    ) -> Result<CompatSsoLogin, StorageError>;

    /// The login with this id, if any, whatever its state.
    async fn find(&mut self, id: Ulid) -> Result<Option<CompatSsoLogin>, StorageError>;

    /// The login whose token is `login_token`, if any, whatever its state: after a failed
    /// [`exchange`](Self::exchange), this tells a replayed token from an unknown one.
    async fn find_by_token(
        &mut self,
        login_token: &str,
    ) -> Result<Option<CompatSsoLogin>, StorageError>;

    /// Marks the login fulfilled at `now`: the user of browser session `user_session_id`
    /// allowed it. Its login token becomes `login_token` (hashed like the first): the token
    /// handed to the application exists only from this moment, and the one made when the login
    /// started, never shown to anyone, stops matching. `None` if the login is not pending (any
    /// more).
    async fn fulfill(
        &mut self,
        id: Ulid,
        user_session_id: Ulid,
        login_token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatSsoLogin>, StorageError>;

    /// Exchanges the login token at `now` for session `session_id` (which must already be
    /// stored), if the login is fulfilled and not yet exchanged, and returns the login as
    /// updated; `None` means refused (not yet signed in, or exchanged before).
    ///
    /// This is a single conditional update: of several requests racing with the same login,
    /// exactly one gets it.
    async fn exchange(
        &mut self,
        id: Ulid,
        session_id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<CompatSsoLogin>, StorageError>;
}
