//! `POST /users/{id}/lock`: locks the account: sign-in and its tokens are refused, its sessions kept (unlocking restores them); the homeserver shows it locked too.

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
        .id("lockUser")
        .tag("user")
        .summary("Lock a user")
        .description("Locks the account: sign-in and its tokens are refused, its sessions kept (unlocking restores them); the homeserver shows it locked too.")
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
    let user = account::lock_user(&mut *repo, user, now).await?;
    repo.commit().await?;
    caller.record("lock user", &user.username);
    Ok(Json(SingleResponse::new(User::from(user))))
}
