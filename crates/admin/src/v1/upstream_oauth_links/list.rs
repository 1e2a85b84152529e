//! `GET /upstream-oauth-links`: the links, filtered, page by page.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use portcullis_storage::UpstreamLinkFilter;
use schemars::JsonSchema;
use serde::Deserialize;
use ulid::Ulid;

use super::UpstreamOAuthLink;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::ListQuery,
    response::{PaginatedResponse, list},
    schema::UlidSchema,
    v1::known,
};

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct UpstreamOAuthLinkFilter {
    /// Only the links of this user.
    #[serde(rename = "filter[user]")]
    #[schemars(with = "Option<UlidSchema>")]
    user: Option<Ulid>,
    /// Only the links through this provider.
    #[serde(rename = "filter[provider]")]
    #[schemars(with = "Option<UlidSchema>")]
    provider: Option<Ulid>,
    /// Only the links of this subject (exactly).
    #[serde(rename = "filter[subject]")]
    subject: Option<String>,
    /// Only the links with this human account name (exactly).
    #[serde(rename = "filter[human-account-name]")]
    human_account_name: Option<String>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("listUpstreamOAuthLinks")
        .tag("upstream-oauth-link")
        .summary("List upstream links")
        .response::<200, Json<PaginatedResponse<UpstreamOAuthLink>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Invalid filter or page"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user or provider"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    query: ListQuery<UpstreamOAuthLinkFilter>,
) -> Result<Json<PaginatedResponse<UpstreamOAuthLink>>, ApiError> {
    let pagination = query.page.pagination()?;
    let mut repo = state.database().read_transaction().await?;
    known::users(&mut *repo, [query.filter.user]).await?;
    let providers = match query.filter.provider {
        Some(id) => vec![super::find_provider(&mut *repo, id).await?.id],
        None => repo
            .upstream_providers()
            .list()
            .await?
            .into_iter()
            .map(|provider| provider.id)
            .filter(|id| super::shown(id))
            .collect(),
    };
    let filter = UpstreamLinkFilter {
        user: query.filter.user,
        providers: Some(providers),
        subject: query.filter.subject.clone(),
        human_account_name: query.filter.human_account_name.clone(),
    };
    let answer = list(
        &mut *repo,
        &filter,
        pagination,
        &query,
        UpstreamOAuthLink::from,
    )
    .await?;
    repo.rollback().await?;
    Ok(Json(answer))
}
