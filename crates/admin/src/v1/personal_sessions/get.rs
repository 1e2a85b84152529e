//! `GET /personal-sessions/{id}`: one personal session.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;

use super::PersonalSession;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("getPersonalSession")
        .tag("personal-session")
        .summary("Get a personal session")
        .response::<200, Json<SingleResponse<PersonalSession>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such session"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<PersonalSession>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let session = super::find(&mut *repo, id).await?;
    repo.rollback().await?;
    Ok(Json(SingleResponse::new(PersonalSession::from(session))))
}
