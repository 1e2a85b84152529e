//! `GET /upstream-oauth-providers/{id}`: one provider.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;

use super::UpstreamOAuthProvider;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("getUpstreamOAuthProvider")
        .tag("upstream-oauth-provider")
        .summary("Get an upstream provider")
        .response::<200, Json<SingleResponse<UpstreamOAuthProvider>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such provider"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<UpstreamOAuthProvider>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let provider = repo.upstream_providers().find(&id.to_string()).await?;
    repo.rollback().await?;
    provider
        .and_then(UpstreamOAuthProvider::new)
        .map(|provider| Json(SingleResponse::new(provider)))
        .ok_or_else(|| {
            ApiError::not_found(format!("Upstream OAuth 2.0 provider ID {id} not found"))
        })
}
