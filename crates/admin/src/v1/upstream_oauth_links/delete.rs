//! `DELETE /upstream-oauth-links/{id}`: unties the upstream account from its user (the user
//! can no longer sign in through it, until it is linked again).

use aide::transform::TransformOperation;
use axum::{Json, extract::State, http::StatusCode};
use portcullis_http::AppState;

use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("deleteUpstreamOAuthLink")
        .tag("upstream-oauth-link")
        .summary("Delete an upstream link")
        .response_with::<204, (), _>(|r| r.description("Deleted"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such link"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<StatusCode, ApiError> {
    let mut repo = state.database().transaction().await?;
    let link = super::find(&mut *repo, id).await?;
    repo.upstream_links().remove(link.id).await?;
    repo.commit().await?;
    caller.record(
        "delete upstream link",
        &format_args!("{} at {}", link.subject, link.provider_id),
    );
    Ok(StatusCode::NO_CONTENT)
}
