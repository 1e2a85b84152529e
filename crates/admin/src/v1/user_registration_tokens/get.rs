//! `GET /user-registration-tokens/{id}`: one token.

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
        .id("getUserRegistrationToken")
        .tag("user-registration-token")
        .summary("Get a registration token")
        .response::<200, Json<SingleResponse<UserRegistrationToken>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such token"))
}

pub async fn handler(
    _caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<UserRegistrationToken>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let token = super::find(&mut *repo, id).await?;
    repo.rollback().await?;
    Ok(Json(SingleResponse::new(UserRegistrationToken::new(
        token,
        state.now(),
    ))))
}
