//! `GET /personal-sessions`: the personal sessions, filtered, page by page.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_storage::PersonalSessionFilter;
use schemars::JsonSchema;
use serde::Deserialize;
use ulid::Ulid;

use super::PersonalSession;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::ListQuery,
    response::{PaginatedResponse, list},
    schema::UlidSchema,
    v1::known,
};

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PersonalSessionStatus {
    Active,
    Revoked,
}

/// Which personal sessions to list.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct PersonalSessionFilterParams {
    #[serde(rename = "filter[owner_user]")]
    #[schemars(with = "Option<UlidSchema>")]
    owner_user: Option<Ulid>,
    #[serde(rename = "filter[owner_client]")]
    #[schemars(with = "Option<UlidSchema>")]
    owner_client: Option<Ulid>,
    #[serde(rename = "filter[actor_user]")]
    #[schemars(with = "Option<UlidSchema>")]
    actor_user: Option<Ulid>,
    /// Only sessions whose scope holds each of these (repeatable).
    #[serde(rename = "filter[scope]", default)]
    scope: Vec<String>,
    #[serde(rename = "filter[status]")]
    status: Option<PersonalSessionStatus>,
    #[serde(rename = "filter[expires_before]")]
    expires_before: Option<DateTime<Utc>>,
    #[serde(rename = "filter[expires_after]")]
    expires_after: Option<DateTime<Utc>>,
    /// Only sessions whose token expires (or never does).
    #[serde(rename = "filter[expires]")]
    expires: Option<bool>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("listPersonalSessions")
        .tag("personal-session")
        .summary("List personal sessions")
        .response::<200, Json<PaginatedResponse<PersonalSession>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Invalid filter or page"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| {
            r.description("The user or client of a filter does not exist")
        })
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    query: ListQuery<PersonalSessionFilterParams>,
) -> Result<Json<PaginatedResponse<PersonalSession>>, ApiError> {
    let pagination = query.page.pagination()?;
    let params = &query.filter;
    let scope = known::scope(&params.scope)?;
    let filter = PersonalSessionFilter {
        owner_user: params.owner_user,
        owner_client: params.owner_client,
        actor_user: params.actor_user,
        scope,
        active: params
            .status
            .map(|status| matches!(status, PersonalSessionStatus::Active)),
        expires_before: params.expires_before,
        expires_after: params.expires_after,
        expires: params.expires,
    };
    let mut repo = state.database().read_transaction().await?;
    known::users(&mut *repo, [filter.owner_user, filter.actor_user]).await?;
    known::clients(&mut *repo, filter.owner_client).await?;
    let answer = list(
        &mut *repo,
        &filter,
        pagination,
        &query,
        PersonalSession::from,
    )
    .await?;
    repo.rollback().await?;
    Ok(Json(answer))
}
