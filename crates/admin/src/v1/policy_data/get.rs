//! `GET /policy-data/{id}`: one version of the policy data.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;

use super::PolicyData;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("getPolicyData")
        .tag("policy-data")
        .summary("Get a version of the policy data")
        .response::<200, Json<SingleResponse<PolicyData>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such version"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<PolicyData>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let found = repo.policy_data().find(id).await?;
    repo.rollback().await?;
    found
        .map(|data| Json(SingleResponse::new(PolicyData::from(data))))
        .ok_or_else(|| ApiError::not_found(format!("Policy data ID {id} not found")))
}
