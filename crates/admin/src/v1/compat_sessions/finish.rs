//! `POST /compat-sessions/{id}/finish`: ends the compatibility session and deletes its device on the homeserver.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use portcullis_services::sessions;

use super::CompatSession;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("finishCompatSession")
        .tag("compat-session")
        .summary("Finish a compatibility session")
        .response::<200, Json<SingleResponse<CompatSession>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Already finished"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such session"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<CompatSession>>, ApiError> {
    let mut repo = state.database().transaction().await?;
    let session = super::find(&mut *repo, id).await?;
    if !session.is_active() {
        return Err(ApiError::bad_request(format!(
            "Compatibility session ID {id} is already finished"
        )));
    }
    sessions::end_compat_session(&mut *repo, &session, state.now()).await?;
    let session = super::find(&mut *repo, id).await?;
    repo.commit().await?;
    caller.record("finish compatibility session", &id);
    Ok(Json(SingleResponse::new(CompatSession::from(session))))
}
