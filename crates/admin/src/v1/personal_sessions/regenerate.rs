//! `POST /personal-sessions/{id}/regenerate`: replaces the session's token; the new one is in
//! the answer, once.

use aide::transform::TransformOperation;
use axum::{Json, extract::State, http::StatusCode};
use portcullis_http::AppState;
use portcullis_services::personal_sessions::{self, Problem};
use schemars::JsonSchema;
use serde::Deserialize;

use super::PersonalSession;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::{self, IdInPath},
    response::SingleResponse,
};

#[derive(Default, Deserialize, JsonSchema)]
pub struct RegeneratePersonalSessionRequest {
    /// How long the new token lives, in seconds; until revoked when absent.
    expires_in: Option<u32>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("regeneratePersonalSession")
        .tag("personal-session")
        .summary("Regenerate the token of a personal session")
        .response::<201, Json<SingleResponse<PersonalSession>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Invalid expiry"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such session"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
    params::Json(request): params::Json<RegeneratePersonalSessionRequest>,
) -> Result<(StatusCode, Json<SingleResponse<PersonalSession>>), ApiError> {
    let expires_in = request
        .expires_in
        .map(|seconds| chrono::Duration::seconds(i64::from(seconds)));
    let mut repo = state.database().transaction().await?;
    let session = super::find(&mut *repo, id).await?;
    let regenerated = personal_sessions::regenerate(
        &mut *repo,
        &mut state.rng(),
        session,
        expires_in,
        state.now(),
    )
    .await?;
    let (session, token) = match regenerated {
        Ok(regenerated) => regenerated,
        Err(Problem::Revoked) => {
            return Err(ApiError::not_found(format!(
                "Personal session ID {id} is revoked"
            )));
        }
        Err(problem) => return Err(ApiError::bad_request(capitalized(&problem.to_string()))),
    };
    repo.commit().await?;
    caller.record("regenerate personal session", &session.id);
    Ok((
        StatusCode::CREATED,
        Json(SingleResponse::new(PersonalSession::new(
            session,
            Some(token),
        ))),
    ))
}

/// `text` with its first letter in capitals, as the API's error titles are.
pub(crate) fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
