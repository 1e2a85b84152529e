//! `GET /compat-sessions/{id}`: one compatibility session.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;

use super::CompatSession;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("getCompatSession")
        .tag("compat-session")
        .summary("Get a compatibility session")
        .response::<200, Json<SingleResponse<CompatSession>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such session"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<CompatSession>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let session = super::find(&mut *repo, id).await?;
    repo.rollback().await?;
    Ok(Json(SingleResponse::new(CompatSession::from(session))))
}
