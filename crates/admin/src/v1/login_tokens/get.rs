//! `GET /login-tokens/{id}`: one login token, without the token itself.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;

use super::LoginToken;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("getLoginToken")
        .tag("user")
        .summary("Get a login token (whether it was redeemed)")
        .description("An extension of Portcullis, not part of MAS's Admin API.")
        .response::<200, Json<SingleResponse<LoginToken>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such login token"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<LoginToken>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let found = repo.compat_login_tokens().find(id).await?;
    repo.rollback().await?;
    let token =
        found.ok_or_else(|| ApiError::not_found(format!("Login token ID {id} not found")))?;
    Ok(Json(SingleResponse::new(LoginToken::new(token, None))))
}
