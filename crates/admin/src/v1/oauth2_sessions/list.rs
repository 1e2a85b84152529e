//! `GET /oauth2-sessions`: OAuth 2.0 sessions, filtered, page by page.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use portcullis_storage::OAuthSessionFilter;
use schemars::JsonSchema;
use serde::Deserialize;
use ulid::Ulid;

use super::OAuth2Session;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::{ListQuery, Query},
    response::{PaginatedResponse, list},
    schema::UlidSchema,
    v1::{known, sessions::SessionFilterParams},
};

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OAuth2ClientKind {
    Dynamic,
    Static,
}

/// The filters OAuth 2.0 sessions have beyond those of every session.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct OAuth2SessionFilterParams {
    /// Only the sessions of this client (its internal ID).
    #[serde(rename = "filter[client]")]
    #[schemars(with = "Option<UlidSchema>")]
    client: Option<Ulid>,
    #[serde(rename = "filter[client-kind]")]
    client_kind: Option<OAuth2ClientKind>,
    /// Only the sessions started from this browser session.
    #[serde(rename = "filter[user-session]")]
    #[schemars(with = "Option<UlidSchema>")]
    user_session: Option<Ulid>,
    /// Only the sessions whose scope holds each of these (repeatable).
    #[serde(rename = "filter[scope]", default)]
    scope: Vec<String>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("listOAuth2Sessions")
        .tag("oauth2-session")
        .summary("List OAuth 2.0 sessions")
        .response::<200, Json<PaginatedResponse<OAuth2Session>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Invalid filter or page"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| {
            r.description("The user, client or browser session of a filter does not exist")
        })
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    query: ListQuery<OAuth2SessionFilterParams>,
    Query(common): Query<SessionFilterParams>,
) -> Result<Json<PaginatedResponse<OAuth2Session>>, ApiError> {
    let pagination = query.page.pagination()?;
    let params = &query.filter;
    let scope = known::scope(&params.scope)?;
    let mut repo = state.database().read_transaction().await?;
    known::user_session(&mut *repo, params.user_session).await?;
    known::clients(&mut *repo, params.client).await?;
    let filter = OAuthSessionFilter {
        session: common.filter(&mut *repo).await?,
        user_session: params.user_session,
        client: params.client,
        static_client: params
            .client_kind
            .map(|kind| matches!(kind, OAuth2ClientKind::Static)),
        scope,
    };
    let answer = list(&mut *repo, &filter, pagination, &query, OAuth2Session::from).await?;
    repo.rollback().await?;
    Ok(Json(answer))
}
