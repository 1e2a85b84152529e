//! `GET /user-registration-tokens`: the tokens, filtered, page by page.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use portcullis_storage::RegistrationTokenFilter;
use schemars::JsonSchema;
use serde::Deserialize;

use super::UserRegistrationToken;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::ListQuery,
    response::{PaginatedResponse, list},
};

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct RegistrationTokenFilterParams {
    /// Only tokens used at least once (or never).
    #[serde(rename = "filter[used]")]
    used: Option<bool>,
    #[serde(rename = "filter[revoked]")]
    revoked: Option<bool>,
    #[serde(rename = "filter[expired]")]
    expired: Option<bool>,
    /// Only tokens accepted now (or not).
    #[serde(rename = "filter[valid]")]
    valid: Option<bool>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("listUserRegistrationTokens")
        .tag("user-registration-token")
        .summary("List registration tokens")
        .response::<200, Json<PaginatedResponse<UserRegistrationToken>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Invalid filter or page"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    query: ListQuery<RegistrationTokenFilterParams>,
) -> Result<Json<PaginatedResponse<UserRegistrationToken>>, ApiError> {
    let pagination = query.page.pagination()?;
    let now = state.now();
    let filter = RegistrationTokenFilter {
        used: query.filter.used,
        revoked: query.filter.revoked,
        expired: query.filter.expired,
        valid: query.filter.valid,
        now,
    };
    let mut repo = state.database().read_transaction().await?;
    let answer = list(&mut *repo, &filter, pagination, &query, |token| {
        UserRegistrationToken::new(token, now)
    })
    .await?;
    repo.rollback().await?;
    Ok(Json(answer))
}
