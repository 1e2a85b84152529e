//! `GET /user-sessions`: browser sessions, filtered, page by page.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;

use super::UserSession;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::ListQuery,
    response::{PaginatedResponse, list},
    v1::sessions::SessionFilterParams,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("listUserSessions")
        .tag("user-session")
        .summary("List browser sessions")
        .response::<200, Json<PaginatedResponse<UserSession>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Invalid filter or page"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    query: ListQuery<SessionFilterParams>,
) -> Result<Json<PaginatedResponse<UserSession>>, ApiError> {
    let pagination = query.page.pagination()?;
    let mut repo = state.database().read_transaction().await?;
    let filter = query.filter.filter(&mut *repo).await?;
    let answer = list(&mut *repo, &filter, pagination, &query, UserSession::from).await?;
    repo.rollback().await?;
    Ok(Json(answer))
}
