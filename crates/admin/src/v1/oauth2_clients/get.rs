//! `GET /oauth2-clients/{id}`: one client, by its internal ID.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;

use super::OAuth2Client;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("getOAuth2Client")
        .tag("oauth2-client")
        .summary("Get an OAuth 2.0 client")
        .response::<200, Json<SingleResponse<OAuth2Client>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such client"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<OAuth2Client>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let client = repo.oauth_clients().find(id).await?;
    repo.rollback().await?;
    let client =
        client.ok_or_else(|| ApiError::not_found(format!("OAuth 2.0 client ID {id} not found")))?;
    Ok(Json(SingleResponse::new(OAuth2Client::from(client))))
}
