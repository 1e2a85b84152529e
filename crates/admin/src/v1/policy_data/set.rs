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
        .response_with::<400, Json<ErrorResponse>, _>(|r| {
            r.description("Not a JSON object, or data that makes the policy fail to evaluate")
        })
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    params::Json(request): params::Json<SetPolicyDataRequest>,
) -> Result<(StatusCode, Json<SingleResponse<PolicyData>>), ApiError> {
    let Some(object) = request.data.as_object() else {
        return Err(ApiError::bad_request(
            "Invalid policy data: expected a JSON object, as policy.data in the configuration",
        ));
    };
    let errors = portcullis_config::sections::policy::data_errors(object);
    if !errors.is_empty() {
        let list = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(ApiError::bad_request(format!(
            "Invalid policy data: {list}"
        )));
    }
    // Data the policy cannot evaluate with would refuse every decision: it is not stored.
    if let Err(error) = state.shared_policy().try_data(&request.data) {
        return Err(ApiError::bad_request(format!(
            "Invalid policy data: {error}"
        )));
    }
    let mut repo = state.database().transaction().await?;
    let stored = repo.policy_data().add(&request.data, state.now()).await?;
    repo.commit().await?;
    caller.record("set policy data", &stored.id);
    // This process uses it now; the others within a minute.
    if let Err(error) = state
        .shared_policy()
        .set_data(&stored.id.to_string(), &stored.data)
    {
        tracing::error!(%error, "stored policy data cannot be used");
    }
    Ok((
        StatusCode::CREATED,
        Json(SingleResponse::new(PolicyData::from(stored))),
    ))
}
