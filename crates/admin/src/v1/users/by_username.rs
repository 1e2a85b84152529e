//! `GET /users/by-username/{username}`: one user, by the localpart of their Matrix ID.

use aide::transform::TransformOperation;
use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::request::Parts,
};
use portcullis_http::AppState;
use schemars::JsonSchema;
use serde::Deserialize;

use super::User;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    response::SingleResponse,
};

#[derive(Deserialize, JsonSchema)]
pub struct UsernamePathParam {
    username: String,
}

/// The `{username}` of the path.
pub struct UsernameInPath(String);

impl<S: Send + Sync> FromRequestParts<S> for UsernameInPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<UsernamePathParam>::from_request_parts(parts, state)
            .await
            .map(|path| Self(path.0.username))
            .map_err(|_| ApiError::bad_request("Invalid username in the path"))
    }
}

impl aide::OperationInput for UsernameInPath {
    fn operation_input(
        ctx: &mut aide::generate::GenContext,
        operation: &mut aide::openapi::Operation,
    ) {
        axum::extract::Path::<UsernamePathParam>::operation_input(ctx, operation);
    }
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("getUserByUsername")
        .tag("user")
        .summary("Get a user by username")
        .response::<200, Json<SingleResponse<User>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    UsernameInPath(username): UsernameInPath,
) -> Result<Json<SingleResponse<User>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let user = repo.users().find_by_username(&username).await?;
    repo.rollback().await?;
    let user = user
        .ok_or_else(|| ApiError::not_found(format!("User with username {username:?} not found")))?;
    Ok(Json(SingleResponse::new(User::from(user))))
}
