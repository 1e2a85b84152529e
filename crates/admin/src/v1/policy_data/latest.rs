//! `GET /policy-data/latest`: the version in effect.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;

use super::PolicyData;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("getLatestPolicyData")
        .tag("policy-data")
        .summary("Get the latest policy data")
        .response::<200, Json<SingleResponse<PolicyData>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("None was ever set"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
) -> Result<Json<SingleResponse<PolicyData>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let latest = repo.policy_data().latest().await?;
    repo.rollback().await?;
    latest
        .map(|data| Json(SingleResponse::new(PolicyData::from(data))))
        .ok_or_else(|| ApiError::not_found("No policy data"))
}
