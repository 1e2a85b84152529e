//! `POST /users/{id}/set-password`: sets a new password, checked against
//! `passwords.minimum_complexity` unless `skip_password_check`.

use aide::transform::TransformOperation;
use axum::{Json, extract::State, http::StatusCode};
use portcullis_http::AppState;
use portcullis_services::account::{self, Complexity, NewPasswordError};
use schemars::JsonSchema;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::{self, IdInPath},
};

#[derive(Deserialize, JsonSchema)]
pub struct SetUserPasswordRequest {
    /// The new password.
    password: String,
    /// Accept a password below the minimum complexity.
    skip_password_check: Option<bool>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("setUserPassword")
        .tag("user")
        .summary("Set the password of a user")
        .response_with::<204, (), _>(|r| r.description("The password was set"))
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("The password is too weak"))
        .response_with::<403, Json<ErrorResponse>, _>(|r| r.description("Passwords are disabled"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
    params::Json(request): params::Json<SetUserPasswordRequest>,
) -> Result<StatusCode, ApiError> {
    if !state.passwords().is_enabled() {
        return Err(ApiError::forbidden("Password support is disabled"));
    }
    let mut repo = state.database().reader().await?;
    let user = super::find(&mut *repo, id).await?;
    repo.rollback().await?;
    let complexity = if request.skip_password_check == Some(true) {
        Complexity::Ignore
    } else {
        Complexity::Enforce
    };
    // Hashed outside any transaction.
    let hashed = account::hash_new_password(
        state.passwords(),
        &user.username,
        Zeroizing::new(request.password),
        complexity,
    )
    .await
    .map_err(|error| match error {
        NewPasswordError::Weak(weak) => {
            ApiError::bad_request(format!("Password is too weak: {weak}"))
        }
        NewPasswordError::Hashing(error) => ApiError::internal(&error),
    })?;
    let mut repo = state.database().transaction().await?;
    account::set_password(&mut *repo, &user, &hashed, state.now()).await?;
    repo.commit().await?;
    caller.record("set password of user", &user.username);
    Ok(StatusCode::NO_CONTENT)
}
