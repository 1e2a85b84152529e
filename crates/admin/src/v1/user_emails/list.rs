//! `GET /user-emails`: the addresses, filtered, page by page.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use portcullis_storage::UserEmailFilter;
use schemars::JsonSchema;
use serde::Deserialize;
use ulid::Ulid;

use super::UserEmail;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::ListQuery,
    response::{PaginatedResponse, list},
    schema::UlidSchema,
    v1::known,
};

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct UserEmailFilterParams {
    /// Only the addresses of this user.
    #[serde(rename = "filter[user]")]
    #[schemars(with = "Option<UlidSchema>")]
    user: Option<Ulid>,
    /// Only this address (in any case).
    #[serde(rename = "filter[email]")]
    email: Option<String>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("listUserEmails")
        .tag("user-email")
        .summary("List email addresses")
        .response::<200, Json<PaginatedResponse<UserEmail>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Invalid filter or page"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    query: ListQuery<UserEmailFilterParams>,
) -> Result<Json<PaginatedResponse<UserEmail>>, ApiError> {
    let pagination = query.page.pagination()?;
    let filter = UserEmailFilter {
        user: query.filter.user,
        email: query.filter.email.clone(),
    };
    let mut repo = state.database().read_transaction().await?;
    known::users(&mut *repo, [filter.user]).await?;
    let answer = list(&mut *repo, &filter, pagination, &query, UserEmail::from).await?;
    repo.rollback().await?;
    Ok(Json(answer))
}
