//! `GET /oauth2-sessions/{id}`: one OAuth 2.0 session.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;

use super::OAuth2Session;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("getOAuth2Session")
        .tag("oauth2-session")
        .summary("Get an OAuth 2.0 session")
        .response::<200, Json<SingleResponse<OAuth2Session>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such session"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<OAuth2Session>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let session = super::find(&mut *repo, id).await?;
    repo.rollback().await?;
    Ok(Json(SingleResponse::new(OAuth2Session::from(session))))
}
