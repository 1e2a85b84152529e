//! `GET /oauth2-clients`: the clients, filtered, page by page.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use portcullis_storage::OAuthClientFilter;
use schemars::JsonSchema;
use serde::Deserialize;

use super::OAuth2Client;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::ListQuery,
    response::{PaginatedResponse, list},
    v1::oauth2_sessions::list::OAuth2ClientKind,
};

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct OAuth2ClientFilterParams {
    #[serde(rename = "filter[client-kind]")]
    client_kind: Option<OAuth2ClientKind>,
    /// Only the clients of exactly this name.
    #[serde(rename = "filter[client-name]")]
    client_name: Option<String>,
    /// Only the clients of exactly this URI.
    #[serde(rename = "filter[client-uri]")]
    client_uri: Option<String>,
    /// Only the clients allowed this grant type.
    #[serde(rename = "filter[grant-type]")]
    grant_type: Option<String>,
    #[serde(rename = "filter[has-active-sessions]")]
    has_active_sessions: Option<bool>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("listOAuth2Clients")
        .tag("oauth2-client")
        .summary("List OAuth 2.0 clients")
        .response::<200, Json<PaginatedResponse<OAuth2Client>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Invalid filter or page"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    query: ListQuery<OAuth2ClientFilterParams>,
) -> Result<Json<PaginatedResponse<OAuth2Client>>, ApiError> {
    let pagination = query.page.pagination()?;
    let params = &query.filter;
    let grant_type = params
        .grant_type
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|_| ApiError::bad_request("Invalid filter[grant-type]: not a grant type"))?;
    let filter = OAuthClientFilter {
        is_static: params
            .client_kind
            .map(|kind| matches!(kind, OAuth2ClientKind::Static)),
        client_name: params.client_name.clone(),
        client_uri: params.client_uri.clone(),
        grant_type,
        has_active_sessions: params.has_active_sessions,
    };
    let mut repo = state.database().read_transaction().await?;
    let answer = list(&mut *repo, &filter, pagination, &query, OAuth2Client::from).await?;
    repo.rollback().await?;
    Ok(Json(answer))
}
