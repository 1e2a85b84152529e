//! `POST /users/{id}/unlock`: unlocks the account (a deactivated account stays deactivated).

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use portcullis_services::account;

use super::User;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("unlockUser")
        .tag("user")
        .summary("Unlock a user")
        .description("Unlocks the account (a deactivated account stays deactivated).")
        .response::<200, Json<SingleResponse<User>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<User>>, ApiError> {
    let now = state.now();
    let mut repo = state.database().transaction().await?;
    let user = super::find(&mut *repo, id).await?;
    let user = account::unlock_user(&mut *repo, user, now).await?;
    repo.commit().await?;
    caller.record("unlock user", &user.username);
    Ok(Json(SingleResponse::new(User::from(user))))
}
