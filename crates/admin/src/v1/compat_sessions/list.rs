//! `GET /compat-sessions`: compatibility sessions, filtered, page by page.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use portcullis_storage::CompatSessionFilter;
use schemars::JsonSchema;
use serde::Deserialize;
use ulid::Ulid;

use super::CompatSession;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::{ListQuery, Query},
    response::{PaginatedResponse, list},
    schema::UlidSchema,
    v1::{known, sessions::SessionFilterParams},
};

/// The filters compatibility sessions have beyond those of every session.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct CompatSessionFilterParams {
    /// Only the sessions of single sign-on logins from this browser session.
    #[serde(rename = "filter[user-session]")]
    #[schemars(with = "Option<UlidSchema>")]
    user_session: Option<Ulid>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("listCompatSessions")
        .tag("compat-session")
        .summary("List compatibility sessions")
        .response::<200, Json<PaginatedResponse<CompatSession>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Invalid filter or page"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| {
            r.description("The user or browser session of a filter does not exist")
        })
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    query: ListQuery<CompatSessionFilterParams>,
    Query(common): Query<SessionFilterParams>,
) -> Result<Json<PaginatedResponse<CompatSession>>, ApiError> {
    let pagination = query.page.pagination()?;
    let mut repo = state.database().read_transaction().await?;
    known::user_session(&mut *repo, query.filter.user_session).await?;
    let filter = CompatSessionFilter {
        session: common.filter(&mut *repo).await?,
        user_session: query.filter.user_session,
    };
    let answer = list(&mut *repo, &filter, pagination, &query, CompatSession::from).await?;
    repo.rollback().await?;
    Ok(Json(answer))
}
