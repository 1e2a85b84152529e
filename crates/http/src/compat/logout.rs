//! `POST /_matrix/client/{v3,r0}/logout`: ends the compatibility session of the access token
//! presented, and queues the deletion of its device on the homeserver (which makes the
//! homeserver forget the tokens it cached).

use axum::{
    extract::{RawQuery, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use portcullis_oauth::token::{TokenKind, TokenType};
use portcullis_services::sessions;
use portcullis_storage::{ActiveCompatAccessToken, Repository};
use serde_json::json;

use super::{
    error::{MatrixError, json_ok},
    request::access_token,
};
use crate::AppState;

pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match logout(&state, &headers, query.as_deref()).await {
        Ok(()) => {
            crate::telemetry::compat_logout();
            json_ok(&json!({}))
        }
        Err(error) => error.into_response(),
    }
}

async fn logout(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<(), MatrixError> {
    let token = access_token(headers, query)?;
    let now = state.now();
    let mut repo = state.database().transaction().await?;
    let active = authenticate(&mut *repo, &token, now).await?;
    sessions::end_compat_session(&mut *repo, &active.session, now).await?;
    repo.commit().await?;
    tracing::info!(user.id = %active.user.id, compat_session.id = %active.session.id, "compatibility session logged out");
    Ok(())
}

/// The session of a compatibility access token (`mct_`, or a legacy Synapse one) accepted now.
///
/// # Errors
/// `M_UNKNOWN_TOKEN` for any other token, and for one that is unknown, expired, revoked or
/// whose session ended.
pub(crate) async fn authenticate(
    repo: &mut dyn Repository,
    token: &str,
    now: DateTime<Utc>,
) -> Result<ActiveCompatAccessToken, MatrixError> {
    let unknown = || MatrixError::unknown_token("Invalid access token");
    let is_compat = TokenKind::detect(token)
        .is_ok_and(|kind| kind.token_type() == TokenType::CompatAccessToken);
    if !is_compat {
        return Err(unknown());
    }
    let active = repo
        .compat_access_tokens()
        .find_active_by_token(token, now)
        .await?
        .ok_or_else(unknown)?;
    crate::telemetry::record_user(active.user.id);
    Ok(active)
}
