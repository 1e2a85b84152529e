//! `POST /personal-sessions/{id}/revoke`: ends the session and its token.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use portcullis_services::personal_sessions;

use super::PersonalSession;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("revokePersonalSession")
        .tag("personal-session")
        .summary("Revoke a personal session")
        .response::<200, Json<SingleResponse<PersonalSession>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such session"))
        .response_with::<409, Json<ErrorResponse>, _>(|r| r.description("Already revoked"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<PersonalSession>>, ApiError> {
    let mut repo = state.database().transaction().await?;
    let session = super::find(&mut *repo, id).await?;
    if !session.is_active() {
        return Err(ApiError::conflict("Personal session is already revoked"));
    }
    let session = personal_sessions::revoke(&mut *repo, &session, state.now()).await?;
    repo.commit().await?;
    caller.record("revoke personal session", &session.id);
    Ok(Json(SingleResponse::new(PersonalSession::from(session))))
}
