//! `GET /upstream-oauth-providers`: the providers, page by page (a handful, paged in memory).

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use schemars::JsonSchema;
use serde::Deserialize;

use super::UpstreamOAuthProvider;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::ListQuery,
    response::{PaginatedResponse, Resource, wants},
};

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct UpstreamOAuthProviderFilterParams {
    /// Only the enabled providers (or only the disabled ones).
    #[serde(rename = "filter[enabled]")]
    enabled: Option<bool>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("listUpstreamOAuthProviders")
        .tag("upstream-oauth-provider")
        .summary("List upstream providers")
        .response::<200, Json<PaginatedResponse<UpstreamOAuthProvider>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Invalid filter or page"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    query: ListQuery<UpstreamOAuthProviderFilterParams>,
) -> Result<Json<PaginatedResponse<UpstreamOAuthProvider>>, ApiError> {
    let pagination = query.page.pagination()?;
    let mut repo = state.database().reader().await?;
    let providers = repo.upstream_providers().list().await?;
    repo.rollback().await?;
    let providers: Vec<UpstreamOAuthProvider> = providers
        .into_iter()
        .filter(|provider| {
            query
                .filter
                .enabled
                .is_none_or(|enabled| provider.is_enabled() == enabled)
        })
        .filter_map(UpstreamOAuthProvider::new)
        .collect();
    let (rows, count) = wants(query.page.include_count());
    let count = count.then_some(providers.len());
    Ok(Json(if rows {
        let page = pagination.select(providers, Resource::id);
        PaginatedResponse::page(page, &pagination, count, &query)
    } else {
        PaginatedResponse::count_only(count.unwrap_or_default(), &query)
    }))
}
