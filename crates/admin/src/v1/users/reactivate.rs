//! `POST /users/{id}/reactivate`: undoes a deactivation (a lock stays). The homeserver
//! reactivates the account first, then it is reactivated here, within seconds: the answer
//! shows the account as it is stored when the call returns.

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
        .id("reactivateUser")
        .tag("user")
        .summary("Reactivate a user")
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
    if account::reactivate_user(&mut *repo, &user, now).await? {
        caller.record("reactivate user", &user.username);
    }
    repo.commit().await?;
    Ok(Json(SingleResponse::new(User::from(user))))
}
