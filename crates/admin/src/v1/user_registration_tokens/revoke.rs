//! `POST /user-registration-tokens/{id}/revoke`: revoke a registration token.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;

use super::UserRegistrationToken;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("revokeUserRegistrationToken")
        .tag("user-registration-token")
        .summary("Revoke a registration token")
        .response::<200, Json<SingleResponse<UserRegistrationToken>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| {
            r.description("The token is already revoked")
        })
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such token"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<UserRegistrationToken>>, ApiError> {
    let now = state.now();
    let mut repo = state.database().transaction().await?;
    let token = super::find(&mut *repo, id).await?;
    if token.revoked_at.is_some() {
        return Err(ApiError::bad_request(format!(
            "Registration token ID {id} is already revoked"
        )));
    }
    let token = repo
        .registration_tokens()
        .revoke(id, now)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Registration token ID {id} not found")))?;
    repo.commit().await?;
    caller.record("revoke registration token", &id);
    Ok(Json(SingleResponse::new(UserRegistrationToken::new(
        token, now,
    ))))
}
