//! `POST /users/{id}/login-tokens`: issues a one-shot login token for the user; the token is in
//! the answer, once.

use aide::transform::TransformOperation;
use axum::{Json, extract::State, http::StatusCode};
use portcullis_http::AppState;
use portcullis_services::login_tokens::{self, DEFAULT_TTL};
use schemars::JsonSchema;
use serde::Deserialize;

use super::LoginToken;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::{self, IdInPath},
    response::SingleResponse,
    v1::personal_sessions::capitalized,
};

#[derive(Deserialize, JsonSchema, Default)]
pub struct IssueLoginTokenRequest {
    /// The only device the token may sign in (created on the homeserver at the login).
    device_id: Option<String>,
    /// How long the token lives, in seconds: 600 when absent, 86400 at most.
    expires_in: Option<u32>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("issueUserLoginToken")
        .tag("user")
        .summary("Issue a one-shot login token for a user")
        .description(
            "An extension of Portcullis, not part of MAS's Admin API: a token that a bot \
             redeems once with `m.login.token` at `/_matrix/client/v3/login` for its own \
             device-bound tokens.",
        )
        .response::<201, Json<SingleResponse<LoginToken>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| {
            r.description("An invalid device ID or lifetime, or a locked or deactivated user")
        })
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
    params::Json(request): params::Json<IssueLoginTokenRequest>,
) -> Result<(StatusCode, Json<SingleResponse<LoginToken>>), ApiError> {
    let mut repo = state.database().transaction().await?;
    let user = crate::v1::users::find(&mut *repo, id).await?;
    let ttl = request.expires_in.map_or(DEFAULT_TTL, |seconds| {
        chrono::Duration::seconds(i64::from(seconds))
    });
    let issued = login_tokens::issue(
        &mut *repo,
        &user,
        request.device_id.as_deref(),
        ttl,
        &mut state.rng(),
        state.now(),
    )
    .await?;
    let (stored, token) =
        issued.map_err(|problem| ApiError::bad_request(capitalized(&problem.to_string())))?;
    repo.commit().await?;
    caller.record("issue login token for user", &user.username);
    Ok((
        StatusCode::CREATED,
        Json(SingleResponse::new(LoginToken::new(stored, Some(token)))),
    ))
}
