//! Token introspection (RFC 7662): whether a token is active, and what its session, client,
//! user and device are, the way the homeserver learns who a Matrix access token belongs to.
//!
//! Every request of every Matrix client goes through here (Synapse caches answers for two
//! minutes), so an access token costs at most one indexed read and no write: what was read is
//! kept for a moment ([`AccessTokenCache`]), its use is noted in the activity tracker, and its
//! first use, which the refresh grant needs to know about, is handed back to be recorded after
//! the answer ([`Introspected::first_use`], [`record_first_use`]).
//!
//! Compatibility tokens of the Matrix login API (`mct_`/`mcr_`, and the `syt_`/`syr_` tokens
//! Synapse issued before the migration) are reported under the client `legacy`; their scope is
//! the whole client-server API, the Synapse admin API for admin sessions, and the session's
//! device, unless the homeserver reads `device_id` instead (`X-MAS-Supports-Device-Id: 1`), as
//! MAS answers. Who may ask (the homeserver's secret, a confidential client) is for the caller.

use chrono::{DateTime, Utc};
use portcullis_model::{CompatSession, OAuthSession, User};
use portcullis_oauth::{
    requests::{IntrospectionResponse, TokenTypeHint},
    scope::normalize_for_introspection,
    token::{TokenKind, TokenType},
};
use portcullis_storage::{BoxRepository, RepositoryFactory, SessionRef, StorageError};
use ulid::Ulid;

pub use self::cache::{AccessTokenCache, FRESH_FOR};
use self::cache::{Found, TokenKey};
use crate::{activity::ActivityTracker, compat::session_scope};

mod cache;

/// The client every compatibility session is reported under.
const LEGACY_CLIENT_ID: &str = "legacy";

/// Why an introspection has no answer: our fault only (an unknown or dead token is
/// `{"active": false}`).
#[derive(Debug, thiserror::Error)]
pub enum IntrospectionError {
    /// Storage failed (or is out of reach for a moment).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Stored data is not what we wrote.
    #[error("{0}")]
    Internal(String),
}

/// An answer, and the access token whose first use it was, to record afterwards.
#[derive(Debug)]
pub struct Introspected {
    /// The answer.
    pub answer: IntrospectionResponse,
    /// An access token used for the first time.
    pub first_use: Option<Ulid>,
}

/// What introspection reads, for one request.
pub struct Introspection<'a> {
    /// The database; access tokens are read through [`RepositoryFactory::reader`].
    pub repositories: &'a dyn RepositoryFactory,
    /// Where the sessions' use is noted.
    pub activity: &'a ActivityTracker,
    /// What was read about access tokens lately.
    pub cache: &'a AccessTokenCache,
    /// The instant of the request.
    pub now: DateTime<Utc>,
}

impl<'a> Introspection<'a> {
    /// An introspection at `now`.
    #[must_use]
    pub fn new(
        repositories: &'a dyn RepositoryFactory,
        activity: &'a ActivityTracker,
        cache: &'a AccessTokenCache,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            repositories,
            activity,
            cache,
            now,
        }
    }

    /// The active access token `token` is, of the kind `kind` says, from the cache or from one
    /// read.
    async fn find_access(
        &self,
        token: &str,
        kind: AccessKind,
    ) -> Result<Option<Found>, IntrospectionError> {
        let now = self.now;
        let key = TokenKey::of(token);
        // Counted before the read: a commit during it makes the entry stale at once.
        let commits = self.repositories.committed_changes();
        if let Some(found) = self.cache.get(key, now, commits) {
            return Ok(Some(found));
        }
        // One read per token at a time: whoever waited finds what the reader before it left.
        let turn = self.cache.turn_to_read(key);
        let _turn = turn.lock().await;
        let commits = self.repositories.committed_changes();
        if let Some(found) = self.cache.get(key, now, commits) {
            return Ok(Some(found));
        }
        // One statement: on PostgreSQL, one round trip without a transaction around it.
        let mut repo = self.repositories.reader().await?;
        let found = match kind {
            AccessKind::OAuth => repo
                .oauth_access_tokens()
                .find_active_by_token(token, now)
                .await?
                .map(Found::OAuth),
            AccessKind::Compat => repo
                .compat_access_tokens()
                .find_active_by_token(token, now)
                .await?
                .map(Found::Compat),
            AccessKind::Personal => repo
                .personal_sessions()
                .find_active_by_token(token, now)
                .await?
                .map(Found::Personal),
        };
        repo.rollback().await?;
        if let Some(found) = &found {
            self.cache.put(key, found.clone(), now, commits);
        }
        Ok(found)
    }

    /// What `token` is, with the caller's `hint`; `with_device_id` when the homeserver reads
    /// the device from `device_id` rather than from the scope.
    ///
    /// # Errors
    /// [`IntrospectionError::Internal`] when storage fails.
    pub async fn introspect(
        self,
        token: &str,
        hint: Option<TokenTypeHint>,
        with_device_id: bool,
    ) -> Result<Introspected, IntrospectionError> {
        // A token that is not in any of our formats is not worth a database read.
        let Ok(kind) = TokenKind::detect(token) else {
            return Ok(Introspected {
                answer: IntrospectionResponse::inactive(),
                first_use: None,
            });
        };
        // A hint that contradicts the token's prefix is a confused or probing caller: the token is
        // not what it says, so it is not active (as in the reference implementation).
        let access_hint = hint != Some(TokenTypeHint::RefreshToken);
        let refresh_hint = hint != Some(TokenTypeHint::AccessToken);
        let (answer, first_use) = match kind.token_type() {
            TokenType::AccessToken if access_hint => self
                .access_token(token, with_device_id)
                .await?
                .map_or((None, None), |(answer, first_use)| {
                    (Some(answer), first_use)
                }),
            TokenType::RefreshToken if refresh_hint => (
                self.refresh_token(token, false, with_device_id).await?,
                None,
            ),
            // `mct_`/`mcr_`, and the `syt_`/`syr_` of Synapse, which count as such.
            TokenType::CompatAccessToken if access_hint => {
                (self.compat_access_token(token, with_device_id).await?, None)
            }
            TokenType::CompatRefreshToken if refresh_hint => {
                (self.refresh_token(token, true, with_device_id).await?, None)
            }
            TokenType::PersonalAccessToken if access_hint => (
                self.personal_access_token(token, with_device_id).await?,
                None,
            ),
            _ => (None, None),
        };
        Ok(Introspected {
            answer: answer.unwrap_or_else(IntrospectionResponse::inactive),
            first_use,
        })
    }

    /// An access token: one read, no write; `None` if it is not active. With the answer, the
    /// token's id if this is its first use.
    async fn access_token(
        &self,
        token: &str,
        with_device_id: bool,
    ) -> Result<Option<(IntrospectionResponse, Option<Ulid>)>, IntrospectionError> {
        let now = self.now;
        let Some(Found::OAuth(active)) = self.find_access(token, AccessKind::OAuth).await? else {
            return Ok(None);
        };
        if active.user.as_ref().is_some_and(|user| !user.is_active()) {
            return Ok(None);
        }
        let first_use = active
            .access_token
            .first_used_at
            .is_none()
            .then_some(active.access_token.id);
        // The homeserver asks, not the client: its address is not the client's.
        self.activity
            .record(SessionRef::OAuth(active.session.id), now, None);

        let answer = session_answer(
            &active.session,
            active.client_id,
            active.user.as_ref(),
            with_device_id,
        );
        let token = &active.access_token;
        let answer = about_token(
            answer,
            TokenTypeHint::AccessToken,
            token.id,
            token.created_at,
            token.expires_at,
            now,
        );
        Ok(Some((answer, first_use)))
    }

    /// An access token: one read, no write; `None` if it is not active.
    async fn compat_access_token(
        &self,
        token: &str,
        with_device_id: bool,
    ) -> Result<Option<IntrospectionResponse>, IntrospectionError> {
        let now = self.now;
        let Some(Found::Compat(active)) = self.find_access(token, AccessKind::Compat).await? else {
            return Ok(None);
        };
        if !active.user.is_active() {
            return Ok(None);
        }
        let Some(answer) = compat_session_answer(&active.session, &active.user, with_device_id)
        else {
            return Ok(None);
        };
        self.activity
            .record(SessionRef::Compat(active.session.id), now, None);
        let token = &active.access_token;
        Ok(Some(about_token(
            answer,
            TokenTypeHint::AccessToken,
            token.id,
            token.created_at,
            token.expires_at,
            now,
        )))
    }

    /// A personal access token: one read, no write; `None` if it is not active. It acts as its
    /// actor, who must be neither locked nor deactivated, as must the user who owns it.
    async fn personal_access_token(
        &self,
        token: &str,
        with_device_id: bool,
    ) -> Result<Option<IntrospectionResponse>, IntrospectionError> {
        let now = self.now;
        let Some(Found::Personal(active)) = self.find_access(token, AccessKind::Personal).await?
        else {
            return Ok(None);
        };
        if !active.actor.is_active()
            || active
                .owner_user
                .as_ref()
                .is_some_and(|owner| !owner.is_active())
        {
            return Ok(None);
        }
        self.activity
            .record(SessionRef::Personal(active.session.id), now, None);
        let scope = &active.session.scope;
        let answer = IntrospectionResponse {
            active: true,
            scope: Some(normalize_for_introspection(scope)),
            username: Some(active.actor.username.clone()),
            sub: Some(active.actor.id.to_string()),
            device_id: if with_device_id {
                scope.device_id().map(str::to_owned)
            } else {
                None
            },
            ..IntrospectionResponse::default()
        };
        let token = &active.token;
        Ok(Some(about_token(
            answer,
            TokenTypeHint::AccessToken,
            token.id,
            token.created_at,
            token.expires_at,
            now,
        )))
    }

    /// A refresh token (`compat` for the Matrix login API's): active while usable, in a standing
    /// session of an active user.
    async fn refresh_token(
        &self,
        token: &str,
        compat: bool,
        with_device_id: bool,
    ) -> Result<Option<IntrospectionResponse>, IntrospectionError> {
        let mut repo = self.repositories.read_transaction().await?;
        let found = if compat {
            compat_refresh_token(&mut repo, token, with_device_id).await?
        } else {
            oauth_refresh_token(&mut repo, token, with_device_id).await?
        };
        repo.rollback().await?;
        Ok(found.map(|(answer, id, created_at)| {
            about_token(
                answer,
                TokenTypeHint::RefreshToken,
                id,
                created_at,
                None,
                self.now,
            )
        }))
    }
}

/// The kinds of access token, each read from its own table.
#[derive(Debug, Clone, Copy)]
enum AccessKind {
    OAuth,
    Compat,
    Personal,
}

/// An active refresh token's answer, id and creation time.
type ActiveRefresh = Option<(IntrospectionResponse, Ulid, DateTime<Utc>)>;

/// The user of a session, if active.
async fn active_user(
    repo: &mut BoxRepository,
    user_id: Ulid,
) -> Result<Option<User>, StorageError> {
    Ok(repo
        .users()
        .find_by_id(user_id)
        .await?
        .filter(User::is_active))
}

async fn oauth_refresh_token(
    repo: &mut BoxRepository,
    token: &str,
    with_device_id: bool,
) -> Result<ActiveRefresh, IntrospectionError> {
    let Some(refresh) = repo.oauth_refresh_tokens().find_by_token(token).await? else {
        return Ok(None);
    };
    let session = match repo.oauth_sessions().find(refresh.session_id).await? {
        Some(session) if refresh.state.is_valid() && session.is_active() => session,
        _ => return Ok(None),
    };
    let user = match session.user_id {
        Some(user_id) => match active_user(repo, user_id).await? {
            Some(user) => Some(user),
            None => return Ok(None),
        },
        None => None,
    };
    let client = repo
        .oauth_clients()
        .find(session.client_id)
        .await?
        .ok_or_else(|| {
            IntrospectionError::Internal("a session's client does not exist".to_owned())
        })?;
    let answer = session_answer(&session, client.client_id, user.as_ref(), with_device_id);
    Ok(Some((answer, refresh.id, refresh.created_at)))
}

async fn compat_refresh_token(
    repo: &mut BoxRepository,
    token: &str,
    with_device_id: bool,
) -> Result<ActiveRefresh, IntrospectionError> {
    let Some(refresh) = repo.compat_refresh_tokens().find_by_token(token).await? else {
        return Ok(None);
    };
    let session = match repo.compat_sessions().find(refresh.session_id).await? {
        Some(session) if refresh.is_valid() && session.is_active() => session,
        _ => return Ok(None),
    };
    let Some(user) = active_user(repo, session.user_id).await? else {
        return Ok(None);
    };
    Ok(compat_session_answer(&session, &user, with_device_id)
        .map(|answer| (answer, refresh.id, refresh.created_at)))
}

/// `answer` with what it says about the token itself: its type, when it was made, its id and,
/// for an access token, when it expires (the homeserver caches the answer for up to
/// `expires_in`: it must not outlive the token).
fn about_token(
    mut answer: IntrospectionResponse,
    token_type: TokenTypeHint,
    id: Ulid,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> IntrospectionResponse {
    answer.token_type = Some(token_type);
    answer.exp = expires_at;
    answer.expires_in =
        expires_at.map(|expires_at| u64::try_from((expires_at - now).num_seconds()).unwrap_or(0));
    answer.iat = Some(created_at);
    answer.nbf = Some(created_at);
    answer.jti = Some(id.to_string());
    answer
}

/// What an active token says about its session, client and user.
fn session_answer(
    session: &OAuthSession,
    client_id: String,
    user: Option<&User>,
    with_device_id: bool,
) -> IntrospectionResponse {
    let scope = &session.scope;
    IntrospectionResponse {
        active: true,
        // Both the stable and the MSC2967 names, for homeservers that know only one.
        scope: Some(normalize_for_introspection(scope)),
        client_id: Some(client_id),
        username: user.map(|user| user.username.clone()),
        sub: user.map(|user| user.id.to_string()),
        device_id: if with_device_id {
            scope.device_id().map(str::to_owned)
        } else {
            None
        },
        ..IntrospectionResponse::default()
    }
}

/// Records that an access token was used (after the answer has gone: a refresh whose response
/// was lost may be retried only while the access token it gave was never used).
///
/// # Errors
/// When storage fails.
pub async fn record_first_use(
    repositories: &dyn RepositoryFactory,
    token_id: Ulid,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let mut repo = repositories.transaction().await?;
    repo.oauth_access_tokens().mark_used(token_id, now).await?;
    repo.commit().await
}

/// What an active token says about its session and user; `None` when the device cannot be
/// written as a scope for a homeserver that needs it so.
fn compat_session_answer(
    session: &CompatSession,
    user: &User,
    with_device_id: bool,
) -> Option<IntrospectionResponse> {
    let Some(scope) = session_scope(session, with_device_id) else {
        tracing::warn!(compat_session.id = %session.id, "the device of a compatibility session cannot be written as a scope; the homeserver should send X-MAS-Supports-Device-Id");
        return None;
    };
    Some(IntrospectionResponse {
        active: true,
        scope: Some(scope),
        client_id: Some(LEGACY_CLIENT_ID.to_owned()),
        username: Some(user.username.clone()),
        sub: Some(user.id.to_string()),
        device_id: with_device_id.then(|| session.device_id.clone()),
        ..IntrospectionResponse::default()
    })
}
