//! Personal sessions: long-lived credentials an owner makes for an actor user (a bot, a
//! script, an admin tool), used through one personal access token (`mpt_…`) at a time.
//!
//! The same rules serve the Admin API (owner: the calling user or client), `mas-cli manage`
//! (owner: the actor) and the account page (owner and actor: the signed-in user): a name, a
//! valid scope, an actor who may still sign in, the admin scopes only where allowed, and a
//! device named by the scope made known to the homeserver before the token exists.

use chrono::{DateTime, Duration, Utc};
use portcullis_homeserver::{HomeserverConnection, HomeserverError};
use portcullis_model::{PersonalSession, PersonalSessionOwner, User};
use portcullis_oauth::{
    scope::{Scope, ScopeKind},
    token::TokenType,
};
use portcullis_storage::{NewPersonalSession, Repository, StorageError};
use rand::RngCore;

use crate::sessions::forget_device;

/// The longest name a session may have, in characters.
pub const MAX_NAME_CHARS: usize = 256;

/// What is asked for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub owner: PersonalSessionOwner,
    pub actor: &'a User,
    pub human_name: &'a str,
    /// The scope, as written (space-separated).
    pub scope: &'a str,
    /// How long the first token lives; `None`: until revoked.
    pub expires_in: Option<Duration>,
    /// Whether the admin scopes (`urn:mas:admin`, `urn:synapse:admin:*`) may be given: by an
    /// administrator, or for an actor who may request admin.
    pub may_grant_admin: bool,
}

/// Why a personal session cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("the name must not be empty")]
    NameEmpty,
    #[error("the name is longer than {MAX_NAME_CHARS} characters")]
    NameTooLong,
    #[error("the scope is empty")]
    ScopeEmpty,
    #[error("the scope is not valid: {0}")]
    ScopeInvalid(String),
    #[error("the scope {0} cannot be given to a personal session")]
    ScopeNotAllowed(String),
    #[error("the admin scope {0} can only be given by an administrator or to an admin user")]
    AdminScopeNotAllowed(String),
    #[error("the user {0} is locked or deactivated")]
    ActorNotActive(String),
    #[error("the expiry must be at least one second")]
    ExpiryTooShort,
    #[error("the session is revoked")]
    Revoked,
}

/// A request that passed every check.
#[derive(Debug, Clone)]
pub struct Checked {
    session: NewPersonalSession,
    actor_username: String,
    expires_in: Option<Duration>,
}

impl Checked {
    /// The Matrix device the scope binds the session to, if any.
    #[must_use]
    pub fn device_id(&self) -> Option<&str> {
        self.session.scope.device_id()
    }
}

/// Checks a request.
///
/// # Errors
/// The first [`Problem`].
pub fn check(request: &Request<'_>) -> Result<Checked, Problem> {
    let name = request.human_name.trim();
    if name.is_empty() {
        return Err(Problem::NameEmpty);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Problem::NameTooLong);
    }
    let scope: Scope =
        request
            .scope
            .parse()
            .map_err(|error: portcullis_oauth::scope::ScopeError| {
                Problem::ScopeInvalid(error.to_string())
            })?;
    if scope.iter().next().is_none() {
        return Err(Problem::ScopeEmpty);
    }
    for token in scope.iter() {
        match token.kind() {
            ScopeKind::MasAdmin | ScopeKind::SynapseAdmin if !request.may_grant_admin => {
                return Err(Problem::AdminScopeNotAllowed(token.as_str().to_owned()));
            }
            ScopeKind::MalformedMatrixDevice { .. } => {
                return Err(Problem::ScopeInvalid(format!(
                    "{token} does not name a valid device ID"
                )));
            }
            ScopeKind::OpenId | ScopeKind::Email | ScopeKind::MasGraphql | ScopeKind::Unknown => {
                return Err(Problem::ScopeNotAllowed(token.as_str().to_owned()));
            }
            _ => {}
        }
    }
    if !request.actor.is_active() {
        return Err(Problem::ActorNotActive(request.actor.username.clone()));
    }
    if request
        .expires_in
        .is_some_and(|expires_in| expires_in < Duration::seconds(1))
    {
        return Err(Problem::ExpiryTooShort);
    }
    Ok(Checked {
        session: NewPersonalSession {
            owner: request.owner,
            actor_user_id: request.actor.id,
            human_name: name.to_owned(),
            scope,
        },
        actor_username: request.actor.username.clone(),
        expires_in: request.expires_in,
    })
}

/// Makes the device the scope names known to the homeserver (outside any transaction, before
/// anything is stored).
///
/// # Errors
/// When the homeserver cannot be reached or refuses.
pub async fn provision(
    homeserver: &dyn HomeserverConnection,
    checked: &Checked,
) -> Result<(), HomeserverError> {
    match checked.device_id() {
        Some(device_id) => {
            crate::devices::provision_device(
                homeserver,
                &checked.actor_username,
                device_id,
                Some(&checked.session.human_name),
            )
            .await
        }
        None => Ok(()),
    }
}

/// Stores the session and its first token in the caller's unit of work; the clear token is
/// returned, the only time it is known.
///
/// # Errors
/// When storage fails.
pub async fn issue(
    repo: &mut dyn Repository,
    rng: &mut (dyn RngCore + Send),
    checked: &Checked,
    now: DateTime<Utc>,
) -> Result<(PersonalSession, String), StorageError> {
    let session = repo.personal_sessions().add(&checked.session, now).await?;
    let token = TokenType::PersonalAccessToken.generate(rng);
    let expires_at = checked.expires_in.map(|expires_in| now + expires_in);
    repo.personal_sessions()
        .add_token(&session, &token, expires_at, now)
        .await?;
    let session = PersonalSession {
        expires_at,
        ..session
    };
    Ok((session, token))
}

/// Replaces the session's token with a new one, living `expires_in` (`None`: until revoked).
///
/// # Errors
/// Storage failures; a revoked session or a too short expiry is the inner `Err`.
pub async fn regenerate(
    repo: &mut dyn Repository,
    rng: &mut (dyn RngCore + Send),
    session: PersonalSession,
    expires_in: Option<Duration>,
    now: DateTime<Utc>,
) -> Result<Result<(PersonalSession, String), Problem>, StorageError> {
    if !session.is_active() {
        return Ok(Err(Problem::Revoked));
    }
    if expires_in.is_some_and(|expires_in| expires_in < Duration::seconds(1)) {
        return Ok(Err(Problem::ExpiryTooShort));
    }
    let token = TokenType::PersonalAccessToken.generate(rng);
    let expires_at = expires_in.map(|expires_in| now + expires_in);
    repo.personal_sessions()
        .add_token(&session, &token, expires_at, now)
        .await?;
    Ok(Ok((
        PersonalSession {
            expires_at,
            ..session
        },
        token,
    )))
}

/// Revokes the session and its token, and queues the deletion of the device its scope names.
/// Revoking again changes nothing.
///
/// # Errors
/// When storage fails.
pub async fn revoke(
    repo: &mut dyn Repository,
    session: &PersonalSession,
    now: DateTime<Utc>,
) -> Result<PersonalSession, StorageError> {
    let revoked = repo
        .personal_sessions()
        .revoke(session.id, now)
        .await?
        .unwrap_or_else(|| session.clone());
    if session.is_active()
        && let Some(device_id) = session.scope.device_id()
    {
        forget_device(repo, session.actor_user_id, device_id.to_owned(), now).await?;
    }
    Ok(revoked)
}

/// Whether `owner` may manage `session`: it made it.
#[must_use]
pub fn is_owner(session: &PersonalSession, owner: PersonalSessionOwner) -> bool {
    session.owner == owner
}
