//! `POST /users/{id}/deactivate`: deactivates the account for good (unless reactivated): its
//! sessions end, and the homeserver deactivates it too, erasing it unless `skip_erase`.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use portcullis_services::account;
use schemars::JsonSchema;
use serde::Deserialize;

use super::User;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::{self, IdInPath},
    response::SingleResponse,
};

#[derive(Default, Deserialize, JsonSchema)]
pub struct DeactivateUserRequest {
    /// Keep the user's data on the homeserver (no erasure).
    #[serde(default)]
    skip_erase: bool,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("deactivateUser")
        .tag("user")
        .summary("Deactivate a user")
        .response::<200, Json<SingleResponse<User>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
    params::JsonOrEmpty(request): params::JsonOrEmpty<DeactivateUserRequest>,
) -> Result<Json<SingleResponse<User>>, ApiError> {
    let now = state.now();
    let mut repo = state.database().transaction().await?;
    let user = super::find(&mut *repo, id).await?;
    let user = account::deactivate_user(&mut *repo, user, !request.skip_erase, now).await?;
    repo.commit().await?;
    caller.record("deactivate user", &user.username);
    Ok(Json(SingleResponse::new(User::from(user))))
}
