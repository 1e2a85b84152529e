//! `GET /upstream-oauth-links/{id}`: one link.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;

use super::UpstreamOAuthLink;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("getUpstreamOAuthLink")
        .tag("upstream-oauth-link")
        .summary("Get an upstream link")
        .response::<200, Json<SingleResponse<UpstreamOAuthLink>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such link"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<UpstreamOAuthLink>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let link = super::find(&mut *repo, id).await?;
    repo.rollback().await?;
    Ok(Json(SingleResponse::new(UpstreamOAuthLink::from(link))))
}
