//! `POST /_matrix/client/{v3,r0}/refresh`: trades a compatibility refresh token for a new
//! access and refresh token.
//!
//! Rotation is strict, as in MAS: a refresh token works once (consumed in one conditional
//! update, so of two racing refreshes one wins), the access token issued with it stops working
//! at once, and a spent token is refused without a second chance. The account being locked is
//! told apart (`M_USER_LOCKED`) and spends nothing, so the client can carry on once it is
//! unlocked.

use std::net::IpAddr;

use axum::{
    body::Bytes,
    extract::State,
    response::{IntoResponse, Response},
};
use portcullis_oauth::token::{TokenKind, TokenType};
use portcullis_services::compat::{issue_tokens, millis};
use portcullis_storage::SessionRef;
use serde::{Deserialize, Serialize};

use super::{
    error::{MatrixError, json_ok},
    request::parse_json,
};
use crate::{AppState, client_ip::ClientIp};

#[derive(Deserialize)]
struct RefreshRequest {
    refresh_token: String,
}

#[derive(Serialize)]
struct RefreshResponse {
    access_token: String,
    refresh_token: String,
    expires_in_ms: u64,
}

pub async fn post(State(state): State<AppState>, ClientIp(ip): ClientIp, body: Bytes) -> Response {
    match refresh(&state, ip, &body).await {
        Ok(response) => json_ok(&response),
        Err(error) => error.into_response(),
    }
}

async fn refresh(
    state: &AppState,
    ip: Option<IpAddr>,
    body: &[u8],
) -> Result<RefreshResponse, MatrixError> {
    let request: RefreshRequest = parse_json(body)?;
    let unknown = || MatrixError::unknown_token("Invalid refresh token");
    let is_compat = TokenKind::detect(&request.refresh_token)
        .is_ok_and(|kind| kind.token_type() == TokenType::CompatRefreshToken);
    if !is_compat {
        return Err(unknown());
    }

    let now = state.now();
    let mut repo = state.database().transaction().await?;
    let refresh_token = repo
        .compat_refresh_tokens()
        .find_by_token(&request.refresh_token)
        .await?
        .filter(portcullis_model::CompatRefreshToken::is_valid)
        .ok_or_else(unknown)?;
    let session = repo
        .compat_sessions()
        .find(refresh_token.session_id)
        .await?
        .filter(portcullis_model::CompatSession::is_active)
        .ok_or_else(unknown)?;
    let user = repo
        .users()
        .find_by_id(session.user_id)
        .await?
        .ok_or_else(unknown)?;
    if user.deactivated_at.is_some() {
        return Err(unknown());
    }
    if user.locked_at.is_some() {
        return Err(MatrixError::user_locked());
    }

    if repo
        .compat_refresh_tokens()
        .consume(refresh_token.id, now)
        .await?
        .is_none()
    {
        // Another refresh spent it first.
        return Err(unknown());
    }
    repo.compat_access_tokens()
        .revoke(refresh_token.access_token_id, now)
        .await?;
    let tokens = issue_tokens(
        &mut *repo,
        &session,
        true,
        state.site_config().compat_token_ttl,
        &mut state.rng(),
        now,
    )
    .await?;
    repo.commit().await?;
    state
        .activity()
        .record(SessionRef::Compat(session.id), now, ip);

    tracing::debug!(compat_session.id = %session.id, "compatibility tokens refreshed");
    Ok(RefreshResponse {
        access_token: tokens.access_token,
        refresh_token: tokens
            .refresh_token
            .expect("tokens issued with a refresh token have one"),
        expires_in_ms: tokens.expires_in.map_or(0, millis),
    })
}
