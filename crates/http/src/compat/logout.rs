//! `POST /_matrix/client/{v3,r0}/logout`: ends the compatibility session of the access token
//! presented, and queues the deletion of its device on the homeserver (which makes the
//! homeserver forget the tokens it cached).

use axum::{
    extract::{RawQuery, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use portcullis_jobs::delete_device::DeleteDevice;
use portcullis_model::CompatSession;
use portcullis_oauth::token::{TokenKind, TokenType};
use portcullis_storage::{ActiveCompatAccessToken, Repository, StorageError};
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
        Ok(()) => json_ok(&json!({})),
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
    end_session(&mut *repo, &active.session, now).await?;
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
    repo.compat_access_tokens()
        .find_active_by_token(token, now)
        .await?
        .ok_or_else(unknown)
}

/// Ends `session` and queues the deletion of its device; a session that had ended already
/// queues nothing. `session` must have been read in this unit of work. (The stored end is not
/// compared with `now`: storage keeps less precision than the clock. Should two requests race
/// to end it, the deletion may be queued twice, which the job tolerates.)
///
/// # Errors
/// When storage fails.
pub(crate) async fn end_session(
    repo: &mut dyn Repository,
    session: &CompatSession,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let finished = repo.compat_sessions().finish(session.id, now).await?;
    if finished.is_some() && session.is_active() {
        DeleteDevice {
            user_id: session.user_id,
            device_id: session.device_id.clone(),
        }
        .schedule(repo, now)
        .await?;
    }
    Ok(())
}
