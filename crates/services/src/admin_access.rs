//! Who calls the Admin API: the bearer token of a request, checked as MAS checks it.
//!
//! Only OAuth 2.0 access tokens (`mat_`) and personal access tokens (`mpt_`) are accepted;
//! the token must be active, its session standing, its user (if any) neither locked nor
//! deactivated, and its scope must hold `urn:mas:admin`. Whether the scope could be granted
//! was decided when the token was issued (admin users interactively, admin clients with client
//! credentials); this check does not repeat it.

use chrono::{DateTime, Utc};
use portcullis_model::{PersonalSessionOwner, User};
use portcullis_oauth::{
    scope::MAS_ADMIN,
    token::{TokenKind, TokenType},
};
use portcullis_storage::{RepositoryFactory, StorageError};
use ulid::Ulid;

/// Who is calling, once the token is accepted.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The session the token belongs to (OAuth 2.0 or personal).
    pub session_id: Ulid,
    /// The user acting: the session's user, or a personal session's actor; `None` for a client
    /// acting for itself (client credentials).
    pub user: Option<User>,
    /// The client of an OAuth 2.0 session: its internal id and public `client_id`.
    pub client: Option<(Ulid, String)>,
}

impl Caller {
    /// Names the caller in the log: the user, or the client.
    #[must_use]
    pub fn describe(&self) -> String {
        match (&self.user, &self.client) {
            (Some(user), _) => format!("user {} ({})", user.username, user.id),
            (None, Some((_, client_id))) => format!("client {client_id}"),
            (None, None) => "nobody".to_owned(),
        }
    }

    /// Who owns what this caller makes (personal sessions): the user, or else the client.
    #[must_use]
    pub fn owner(&self) -> Option<PersonalSessionOwner> {
        match (&self.user, &self.client) {
            (Some(user), _) => Some(PersonalSessionOwner::User(user.id)),
            (None, Some((id, _))) => Some(PersonalSessionOwner::Client(*id)),
            (None, None) => None,
        }
    }
}

/// Why a token does not open the Admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(
        "Unsupported token type: only OAuth 2.0 access tokens and personal access tokens are accepted"
    )]
    UnsupportedTokenType,
    #[error("Invalid, expired or revoked token")]
    UnknownToken,
    #[error("The user of this token is locked")]
    UserLocked,
    #[error("The user of this token is deactivated")]
    UserDeactivated,
    #[error("The token does not have the {0} scope")]
    MissingScope(&'static str),
}

/// Checks `token` at `now` for the Admin API (`urn:mas:admin`).
///
/// # Errors
/// Only storage failures; a refused token is the inner `Err`.
pub async fn authorize(
    repositories: &dyn RepositoryFactory,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Result<Caller, Refused>, StorageError> {
    authorize_scope(repositories, token, MAS_ADMIN, now).await
}

/// Checks that `token` is an active OAuth 2.0 or personal access token at `now`, of an active
/// user, holding `scope`.
///
/// # Errors
/// Only storage failures; a refused token is the inner `Err`.
pub async fn authorize_scope(
    repositories: &dyn RepositoryFactory,
    token: &str,
    scope: &'static str,
    now: DateTime<Utc>,
) -> Result<Result<Caller, Refused>, StorageError> {
    match TokenKind::detect(token) {
        Ok(TokenKind::Ours(TokenType::AccessToken)) => {}
        Ok(TokenKind::Ours(TokenType::PersonalAccessToken)) => {
            return personal(repositories, token, scope, now).await;
        }
        Ok(_) => return Ok(Err(Refused::UnsupportedTokenType)),
        Err(_) => return Ok(Err(Refused::UnknownToken)),
    }
    let mut repo = repositories.reader().await?;
    let found = repo
        .oauth_access_tokens()
        .find_active_by_token(token, now)
        .await?;
    repo.rollback().await?;
    let Some(active) = found else {
        return Ok(Err(Refused::UnknownToken));
    };
    if let Some(user) = &active.user {
        if user.deactivated_at.is_some() {
            return Ok(Err(Refused::UserDeactivated));
        }
        if user.locked_at.is_some() {
            return Ok(Err(Refused::UserLocked));
        }
    }
    if !active.session.scope.contains(scope) {
        return Ok(Err(Refused::MissingScope(scope)));
    }
    Ok(Ok(Caller {
        session_id: active.session.id,
        user: active.user,
        client: Some((active.session.client_id, active.client_id)),
    }))
}

/// A personal access token: its actor acts, and must be neither locked nor deactivated; a
/// user who owns it must still be active too.
async fn personal(
    repositories: &dyn RepositoryFactory,
    token: &str,
    scope: &'static str,
    now: DateTime<Utc>,
) -> Result<Result<Caller, Refused>, StorageError> {
    let mut repo = repositories.reader().await?;
    let found = repo
        .personal_sessions()
        .find_active_by_token(token, now)
        .await?;
    repo.rollback().await?;
    let Some(active) = found else {
        return Ok(Err(Refused::UnknownToken));
    };
    if active
        .owner_user
        .as_ref()
        .is_some_and(|owner| !owner.is_active())
    {
        return Ok(Err(Refused::UnknownToken));
    }
    if active.actor.deactivated_at.is_some() {
        return Ok(Err(Refused::UserDeactivated));
    }
    if active.actor.locked_at.is_some() {
        return Ok(Err(Refused::UserLocked));
    }
    if !active.session.scope.contains(scope) {
        return Ok(Err(Refused::MissingScope(scope)));
    }
    Ok(Ok(Caller {
        session_id: active.session.id,
        user: Some(active.actor),
        client: None,
    }))
}
