//! `POST /personal-sessions`: makes a personal session for an actor user, owned by the caller;
//! its token is in the answer, once.

use aide::transform::TransformOperation;
use axum::{Json, extract::State, http::StatusCode};
use portcullis_http::AppState;
use portcullis_services::personal_sessions::{self, Request};
use schemars::JsonSchema;
use serde::Deserialize;
use ulid::Ulid;

use super::{PersonalSession, regenerate::capitalized};
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params,
    response::SingleResponse,
    schema::UlidSchema,
};

#[derive(Deserialize, JsonSchema)]
pub struct CreatePersonalSessionRequest {
    /// The user the session acts as.
    #[schemars(with = "UlidSchema")]
    actor_user_id: Ulid,
    /// A name to recognise it by.
    human_name: String,
    /// What it may do, space-separated (e.g. `urn:matrix:client:api:*`, a device scope
    /// `urn:matrix:client:device:DEVICEID`, `urn:mas:admin`).
    scope: String,
    /// How long its token lives, in seconds; until revoked when absent.
    expires_in: Option<u32>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("createPersonalSession")
        .tag("personal-session")
        .summary("Create a personal session and its token")
        .response::<201, Json<SingleResponse<PersonalSession>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| {
            r.description("Invalid name, scope or expiry, or an actor who cannot sign in")
        })
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such actor"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    params::Json(request): params::Json<CreatePersonalSessionRequest>,
) -> Result<(StatusCode, Json<SingleResponse<PersonalSession>>), ApiError> {
    let owner = caller
        .caller
        .owner()
        .ok_or_else(|| ApiError::forbidden("This caller cannot own a personal session"))?;
    let mut repo = state.database().reader().await?;
    let actor = repo.users().find_by_id(request.actor_user_id).await?;
    repo.rollback().await?;
    let actor = actor.ok_or_else(|| {
        ApiError::not_found(format!("User ID {} not found", request.actor_user_id))
    })?;
    let checked = personal_sessions::check(&Request {
        owner,
        actor: &actor,
        human_name: &request.human_name,
        scope: &request.scope,
        expires_in: request
            .expires_in
            .map(|seconds| chrono::Duration::seconds(i64::from(seconds))),
        // The caller holds `urn:mas:admin`: an administrator.
        may_grant_admin: true,
    })
    .map_err(|problem| ApiError::bad_request(capitalized(&problem.to_string())))?;
    personal_sessions::provision(state.homeserver().as_ref(), &checked)
        .await
        .map_err(|error| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("Cannot create the device on the homeserver: {error}"),
            )
        })?;
    let mut repo = state.database().transaction().await?;
    let (session, token) =
        personal_sessions::issue(&mut *repo, &mut state.rng(), &checked, state.now()).await?;
    repo.commit().await?;
    caller.record("create personal session", &session.id);
    Ok((
        StatusCode::CREATED,
        Json(SingleResponse::new(PersonalSession::new(
            session,
            Some(token),
        ))),
    ))
}
