//! `POST /policy-data`: a new version of the policy data.

use aide::transform::TransformOperation;
use axum::{Json, extract::State, http::StatusCode};
use portcullis_http::AppState;
use schemars::JsonSchema;
use serde::Deserialize;

use super::PolicyData;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params,
    response::SingleResponse,
};

#[derive(Deserialize, JsonSchema)]
pub struct SetPolicyDataRequest {
    /// The data: a JSON object, as `policy.data` in the configuration.
    data: serde_json::Value,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("setPolicyData")
        .tag("policy-data")
        .summary("Set the policy data")
        .response::<201, Json<SingleResponse<PolicyData>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Not a JSON object"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    params::Json(request): params::Json<SetPolicyDataRequest>,
) -> Result<(StatusCode, Json<SingleResponse<PolicyData>>), ApiError> {
    if !request.data.is_object() {
        return Err(ApiError::bad_request(
            "Invalid policy data: expected a JSON object, as policy.data in the configuration",
        ));
    }
    let mut repo = state.database().transaction().await?;
    let stored = repo.policy_data().add(&request.data, state.now()).await?;
    repo.commit().await?;
    caller.record("set policy data", &stored.id);
    Ok((
        StatusCode::CREATED,
        Json(SingleResponse::new(PolicyData::from(stored))),
    ))
}
