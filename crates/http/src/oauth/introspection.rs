//! `POST /oauth2/introspect`: token introspection (RFC 7662), the way the homeserver learns
//! who a Matrix access token belongs to.
//!
//! The caller is the homeserver, with `Authorization: Bearer <matrix.secret>`, or a
//! confidential client. Every request of every Matrix client goes through here (Synapse caches
//! answers for two minutes), so an access token costs one indexed read and no write: its first
//! use, which the refresh grant needs to know about, is recorded after the answer, off the
//! request's path. Compatibility tokens of the Matrix login API are answered by [`compat`].

mod compat;

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use chrono::{DateTime, Utc};
use portcullis_model::{OAuthSession, User};
use portcullis_oauth::{
    ClientError, ErrorCode,
    requests::{IntrospectionRequest, IntrospectionResponse, TokenTypeHint},
    scope::{Scope, normalize_for_introspection},
    token::{TokenKind, TokenType},
};
use portcullis_storage::{SessionRef, StorageError};
use portcullis_storage_sql::Database;
use subtle::ConstantTimeEq as _;
use ulid::Ulid;

use super::{
    client_auth::{self, ClientAuthFailure},
    reply::{self, Internal, OAuthForm},
};
use crate::AppState;

/// The header with which a homeserver says it reads `device_id` from the answer, so the
/// device need not be encoded as a scope (MAS's `X-MAS-Supports-Device-Id: 1`).
const SUPPORTS_DEVICE_ID: &str = "x-mas-supports-device-id";

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth2/introspect", post(post_introspect))
}

async fn post_introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    OAuthForm(request): OAuthForm<IntrospectionRequest>,
) -> Response {
    match introspect(&state, &headers, &request).await {
        Ok(answer) => reply::no_store_json(StatusCode::OK, &answer),
        Err(error) => error.into_response(),
    }
}

async fn introspect(
    state: &AppState,
    headers: &HeaderMap,
    request: &IntrospectionRequest,
) -> Result<IntrospectionResponse, IntrospectionError> {
    authenticate_caller(state, headers, request).await?;
    let with_device_id = headers
        .get(SUPPORTS_DEVICE_ID)
        .is_some_and(|value| value.as_bytes() == b"1");

    // A token that is not in any of our formats is not worth a database read.
    let Ok(kind) = TokenKind::detect(&request.token) else {
        return Ok(IntrospectionResponse::inactive());
    };
    let hint = request.token_type_hint;
    // A hint that contradicts the token's prefix is a confused or probing caller: the token is
    // not what it says, so it is not active (as in the reference implementation).
    let access_hint = hint != Some(TokenTypeHint::RefreshToken);
    let refresh_hint = hint != Some(TokenTypeHint::AccessToken);
    let answer = match kind.token_type() {
        TokenType::AccessToken if access_hint => {
            access_token(state, &request.token, with_device_id).await?
        }
        TokenType::RefreshToken if refresh_hint => {
            refresh_token(state, &request.token, with_device_id).await?
        }
        // `mct_`/`mcr_`, and the `syt_`/`syr_` of Synapse, which count as such.
        TokenType::CompatAccessToken if access_hint => {
            compat::access_token(state, &request.token, with_device_id).await?
        }
        TokenType::CompatRefreshToken if refresh_hint => {
            compat::refresh_token(state, &request.token, with_device_id).await?
        }
        // Personal (`mpt_`) tokens come with the feature that issues them.
        _ => None,
    };
    Ok(answer.unwrap_or_else(IntrospectionResponse::inactive))
}

/// Checks that the caller may introspect: the homeserver with its shared secret, or a
/// confidential client. RFC 7662 §2.1 requires some authorization, so that the endpoint is no
/// oracle for guessed tokens.
async fn authenticate_caller(
    state: &AppState,
    headers: &HeaderMap,
    request: &IntrospectionRequest,
) -> Result<(), IntrospectionError> {
    if let Some(presented) = bearer(headers) {
        let matches = state
            .homeserver_secret()
            .is_some_and(|secret| bool::from(secret.as_bytes().ct_eq(presented.as_bytes())));
        return if matches {
            Ok(())
        } else {
            Err(IntrospectionError::WrongHomeserverSecret)
        };
    }
    let credentials = client_auth::credentials(headers, &request.client)?;
    let client =
        client_auth::authenticate(state, &credentials, &state.urls().introspection_endpoint())
            .await?;
    // A public client proves nothing about who is asking.
    if client.client_auth_method == "none" {
        return Err(IntrospectionError::PublicClient);
    }
    Ok(())
}

/// The credentials of `Authorization: Bearer <credentials>`, if that is the scheme.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// An access token: one read, no write; `None` if it is not active.
async fn access_token(
    state: &AppState,
    token: &str,
    with_device_id: bool,
) -> Result<Option<IntrospectionResponse>, IntrospectionError> {
    let now = state.now();
    // One statement: on PostgreSQL, one round trip without a transaction around it.
    let mut repo = state.database().reader().await?;
    let found = repo
        .oauth_access_tokens()
        .find_active_by_token(token, now)
        .await?;
    repo.rollback().await?;
    let Some(active) = found else {
        return Ok(None);
    };
    if active.user.as_ref().is_some_and(|user| !user.is_active()) {
        return Ok(None);
    }
    if active.access_token.first_used_at.is_none() {
        record_first_use(state.database().clone(), active.access_token.id, now);
    }
    // The homeserver asks, not the client: its address is not the client's.
    state
        .activity()
        .record(SessionRef::OAuth(active.session.id), now, None);

    let token = &active.access_token;
    let mut answer = session_answer(
        &active.session,
        active.client_id,
        active.user.as_ref(),
        with_device_id,
    )?;
    answer.token_type = Some(TokenTypeHint::AccessToken);
    answer.exp = token.expires_at;
    // The homeserver caches the answer for up to `expires_in`: it must not outlive the token.
    answer.expires_in = token
        .expires_at
        .map(|expires_at| u64::try_from((expires_at - now).num_seconds()).unwrap_or(0));
    answer.iat = Some(token.created_at);
    answer.nbf = Some(token.created_at);
    answer.jti = Some(token.id.to_string());
    Ok(Some(answer))
}

/// A refresh token: active while valid, in a standing session of an active user.
async fn refresh_token(
    state: &AppState,
    token: &str,
    with_device_id: bool,
) -> Result<Option<IntrospectionResponse>, IntrospectionError> {
    let mut repo = state.database().read_transaction().await?;
    let Some(refresh) = repo
        .oauth_refresh_tokens()
        .find_by_token(token)
        .await?
        .filter(|refresh| refresh.state.is_valid())
    else {
        return Ok(None);
    };
    let Some(session) = repo
        .oauth_sessions()
        .find(refresh.session_id)
        .await?
        .filter(OAuthSession::is_active)
    else {
        return Ok(None);
    };
    let user = match session.user_id {
        Some(user_id) => match repo.users().find_by_id(user_id).await? {
            Some(user) if user.is_active() => Some(user),
            _ => return Ok(None),
        },
        None => None,
    };
    let client = repo
        .oauth_clients()
        .find(session.client_id)
        .await?
        .ok_or_else(|| Internal::from("a session's client does not exist"))?;
    repo.rollback().await?;

    let mut answer = session_answer(&session, client.client_id, user.as_ref(), with_device_id)?;
    answer.token_type = Some(TokenTypeHint::RefreshToken);
    answer.iat = Some(refresh.created_at);
    answer.nbf = Some(refresh.created_at);
    answer.jti = Some(refresh.id.to_string());
    Ok(Some(answer))
}

/// What an active token says about its session, client and user.
fn session_answer(
    session: &OAuthSession,
    client_id: String,
    user: Option<&User>,
    with_device_id: bool,
) -> Result<IntrospectionResponse, Internal> {
    let scope: Scope = session.scope.parse().map_err(|error| {
        Internal::from(format!(
            "session {} has an invalid scope: {error}",
            session.id
        ))
    })?;
    Ok(IntrospectionResponse {
        active: true,
        // Both the stable and the MSC2967 names, for homeservers that know only one.
        scope: Some(normalize_for_introspection(&scope)),
        client_id: Some(client_id),
        username: user.map(|user| user.username.clone()),
        sub: user.map(|user| user.id.to_string()),
        device_id: if with_device_id {
            scope.device_id().map(str::to_owned)
        } else {
            None
        },
        ..IntrospectionResponse::default()
    })
}

/// Records, after the answer has gone, that the token was used: a refresh whose response was
/// lost may be retried only while the access token it gave was never used.
fn record_first_use(database: Database, token_id: Ulid, now: DateTime<Utc>) {
    tokio::spawn(async move {
        let result = async {
            let mut repo = database.transaction().await?;
            repo.oauth_access_tokens().mark_used(token_id, now).await?;
            repo.commit().await
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(access_token.id = %token_id, %error, "could not record the first use of an access token");
        }
    });
}

/// Why introspection is refused (an unknown or dead token is not a refusal but
/// `{"active": false}`).
#[derive(Debug)]
pub enum IntrospectionError {
    /// A client did not authenticate.
    ClientAuth(ClientAuthFailure),
    /// A bearer credential that is not the homeserver's secret.
    WrongHomeserverSecret,
    /// Public clients may not introspect.
    PublicClient,
    /// Our fault.
    Internal(Internal),
}

impl From<ClientAuthFailure> for IntrospectionError {
    fn from(failure: ClientAuthFailure) -> Self {
        Self::ClientAuth(failure)
    }
}

impl From<StorageError> for IntrospectionError {
    fn from(error: StorageError) -> Self {
        Self::Internal(error.into())
    }
}

impl From<Internal> for IntrospectionError {
    fn from(error: Internal) -> Self {
        Self::Internal(error)
    }
}

impl IntoResponse for IntrospectionError {
    fn into_response(self) -> Response {
        let description = match self {
            Self::ClientAuth(failure) => return failure.response("introspection"),
            Self::Internal(internal) => return internal.response("introspection"),
            Self::WrongHomeserverSecret => "invalid bearer credentials",
            Self::PublicClient => "public clients may not introspect tokens",
        };
        reply::error(&ClientError::new(ErrorCode::InvalidClient).with_description(description))
    }
}
