//! `POST /_matrix/client/{v3,r0}/logout/all`: ends every compatibility session of the token's
//! user and queues the deletion of their devices.
//!
//! Sessions of OAuth 2.0 clients are not ours to end from here: a client must say it knows,
//! with `{"io.element.only_compat_is_fine": true}`, as MAS requires; without it the request is
//! refused rather than half-done silently.

use axum::{
    body::Bytes,
    extract::{RawQuery, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use portcullis_services::sessions;
use serde::Deserialize;
use serde_json::json;

use super::{
    error::{MatrixError, json_ok},
    logout::authenticate,
    request::{access_token, parse_optional_json},
};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
struct LogoutAllRequest {
    #[serde(rename = "io.element.only_compat_is_fine", default)]
    only_compat_is_fine: bool,
}

pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    match logout_all(&state, &headers, query.as_deref(), &body).await {
        Ok(()) => {
            crate::telemetry::compat_logout_all();
            json_ok(&json!({}))
        }
        Err(error) => error.into_response(),
    }
}

async fn logout_all(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<(), MatrixError> {
    let token = access_token(headers, query)?;
    let request: LogoutAllRequest = parse_optional_json(body)?;
    let now = state.now();
    let mut repo = state.database().transaction().await?;
    let active = authenticate(&mut *repo, &token, now).await?;
    if !request.only_compat_is_fine {
        return Err(MatrixError::unrecognized(
            "This server can only log out the sessions of the Matrix login API; sessions of \
             OAuth 2.0 clients are ended from the account page. Send \
             {\"io.element.only_compat_is_fine\": true} to log out of the former only.",
        ));
    }
    let sessions = repo
        .compat_sessions()
        .list_active_for_user(&active.user)
        .await?;
    for session in &sessions {
        sessions::end_compat_session(&mut *repo, session, now).await?;
    }
    repo.commit().await?;
    tracing::info!(user.id = %active.user.id, sessions = sessions.len(), "every compatibility session logged out");
    Ok(())
}
