//! The authorization grants.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{
    AuthorizationGrant, BrowserSession, CodeChallenge, OAuthSession, ResponseMode,
};
use portcullis_oauth::scope::Scope;
use ulid::Ulid;

use crate::StorageError;

/// What the authorization endpoint stores about a request; see [`AuthorizationGrant`] for
/// each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuthorizationGrant {
    /// The client's internal id.
    pub client_id: Ulid,
    /// Where the response goes.
    pub redirect_uri: url::Url,
    /// The scope asked for.
    pub scope: Scope,
    /// The client's `state`.
    pub state: Option<String>,
    /// The client's `nonce`.
    pub nonce: Option<String>,
    /// How the response is returned.
    pub response_mode: ResponseMode,
    /// Whether `response_type` includes `code`.
    pub response_type_code: bool,
    /// Whether `response_type` includes `id_token`.
    pub response_type_id_token: bool,
    /// The PKCE challenge.
    pub code_challenge: Option<CodeChallenge>,
    /// `max_age`, in seconds.
    pub max_age: Option<u32>,
    /// `login_hint`.
    pub login_hint: Option<String>,
    /// The language of the pages.
    pub locale: Option<String>,
    /// Whether consent must be asked even if given before.
    pub requires_consent: bool,
    /// The request's parameters as the client sent them (a JSON object of strings).
    pub raw_parameters: Option<serde_json::Value>,
}

/// Reads and writes [`AuthorizationGrant`]s.
///
/// Codes are passed in clear and stored only as their hash
/// ([`hash_token`](portcullis_model::token::hash_token)).
#[async_trait]
pub trait AuthorizationGrantRepository: Send {
    /// Stores a pending grant, with its `code` if the response type includes one.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the same code already exists.
    async fn add(
        &mut self,
        grant: &NewAuthorizationGrant,
        code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<AuthorizationGrant, StorageError>;

    /// The grant with this id, if any, whatever its stage.
    async fn find(&mut self, id: Ulid) -> Result<Option<AuthorizationGrant>, StorageError>;

    /// The grant whose code is `code`, if any, whatever its stage: after a failed
    /// [`exchange`](Self::exchange), this tells a replayed code (RFC 6749 §4.1.2: the server
    /// should then revoke what the code gave) from an unknown one.
    async fn find_by_code(
        &mut self,
        code: &str,
    ) -> Result<Option<AuthorizationGrant>, StorageError>;

    /// Marks the grant fulfilled at `now`: the user of `browser_session` consented and
    /// `session` was created for it. `None` if the grant is not pending (any more).
    ///
    /// `code`, when given, becomes the grant's code: it is made at consent time, when it is
    /// about to be sent, because only its hash is kept and the redirect needs it in clear.
    async fn fulfill(
        &mut self,
        id: Ulid,
        session: &OAuthSession,
        browser_session: &BrowserSession,
        code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<AuthorizationGrant>, StorageError>;

    /// Exchanges the code at `now`, if its grant is fulfilled and the code not yet exchanged,
    /// and returns the grant as updated; `None` means refused (unknown, not yet consented,
    /// cancelled, or exchanged before).
    ///
    /// This is a single conditional update: of several requests racing with the same code,
    /// exactly one gets the grant.
    async fn exchange(
        &mut self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<AuthorizationGrant>, StorageError>;

    /// Cancels the grant at `now`; `None` if it is not pending (any more).
    async fn cancel(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<AuthorizationGrant>, StorageError>;
}
