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
    response::{PaginatedResponse, wants},
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
    let (rows, count) = wants(query.page.include_count());
    let mut repo = state.database().read_transaction().await?;
    let count = if count {
        Some(repo.registration_tokens().count(&filter).await?)
    } else {
        None
    };
    let answer = if rows {
        let page = repo
            .registration_tokens()
            .list_page(&filter, pagination)
            .await?;
        PaginatedResponse::page(
            page.map(|token| UserRegistrationToken::new(token, now)),
            &pagination,
            count,
            &query,
        )
    } else {
        PaginatedResponse::count_only(count.unwrap_or_default(), &query)
    };
    repo.rollback().await?;
    Ok(Json(answer))
}
