//! Introspection of compatibility tokens: `mct_` access and `mcr_` refresh tokens of the
//! Matrix login API, and the `syt_`/`syr_` tokens Synapse issued before the migration.
//!
//! Their client is `legacy`; their scope is the whole client-server API, the Synapse admin API
//! for admin sessions, and the session's device, unless the homeserver reads `device_id`
//! instead (`X-MAS-Supports-Device-Id: 1`), as MAS answers.

use portcullis_model::{CompatSession, User};
use portcullis_oauth::requests::{IntrospectionResponse, TokenTypeHint};
use portcullis_storage::SessionRef;

use super::IntrospectionError;
use portcullis_services::compat::session_scope;

use crate::AppState;

/// The client every compatibility session is reported under.
const LEGACY_CLIENT_ID: &str = "legacy";

/// An access token: one read, no write; `None` if it is not active.
pub(super) async fn access_token(
    state: &AppState,
    token: &str,
    with_device_id: bool,
) -> Result<Option<IntrospectionResponse>, IntrospectionError> {
    let now = state.now();
    // One statement: on PostgreSQL, one round trip without a transaction around it.
    let mut repo = state.database().reader().await?;
    let found = repo
        .compat_access_tokens()
        .find_active_by_token(token, now)
        .await?;
    repo.rollback().await?;
    let Some(active) = found.filter(|active| active.user.is_active()) else {
        return Ok(None);
    };
    let Some(mut answer) = session_answer(&active.session, &active.user, with_device_id) else {
        return Ok(None);
    };
    state
        .activity()
        .record(SessionRef::Compat(active.session.id), now, None);
    let token = &active.access_token;
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

/// A refresh token: active while usable, in a standing session of an active user.
pub(super) async fn refresh_token(
    state: &AppState,
    token: &str,
    with_device_id: bool,
) -> Result<Option<IntrospectionResponse>, IntrospectionError> {
    let mut repo = state.database().read_transaction().await?;
    let Some(refresh) = repo
        .compat_refresh_tokens()
        .find_by_token(token)
        .await?
        .filter(portcullis_model::CompatRefreshToken::is_valid)
    else {
        return Ok(None);
    };
    let Some(session) = repo
        .compat_sessions()
        .find(refresh.session_id)
        .await?
        .filter(CompatSession::is_active)
    else {
        return Ok(None);
    };
    let Some(user) = repo
        .users()
        .find_by_id(session.user_id)
        .await?
        .filter(User::is_active)
    else {
        return Ok(None);
    };
    repo.rollback().await?;

    let Some(mut answer) = session_answer(&session, &user, with_device_id) else {
        return Ok(None);
    };
    answer.token_type = Some(TokenTypeHint::RefreshToken);
    answer.iat = Some(refresh.created_at);
    answer.nbf = Some(refresh.created_at);
    answer.jti = Some(refresh.id.to_string());
    Ok(Some(answer))
}

/// What an active token says about its session and user; `None` when the device cannot be
/// written as a scope for a homeserver that needs it so.
fn session_answer(
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
