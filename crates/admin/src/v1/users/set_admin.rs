//! `POST /users/{id}/set-admin`: whether the user may ask for the admin scope (sessions that
//! already hold it keep it).

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use schemars::JsonSchema;
use serde::Deserialize;

use super::User;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::{self, IdInPath},
    response::SingleResponse,
};

#[derive(Deserialize, JsonSchema)]
pub struct UserSetAdminRequest {
    /// Whether the user may ask for the admin scope.
    admin: bool,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("userSetAdmin")
        .tag("user")
        .summary("Set whether a user can request admin")
        .response::<200, Json<SingleResponse<User>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
    params::Json(request): params::Json<UserSetAdminRequest>,
) -> Result<Json<SingleResponse<User>>, ApiError> {
    let mut repo = state.database().transaction().await?;
    let user = super::find(&mut *repo, id).await?;
    let user = repo
        .users()
        .set_can_request_admin(user, request.admin)
        .await?;
    repo.commit().await?;
    caller.record(
        if request.admin {
            "allow admin for user"
        } else {
            "disallow admin for user"
        },
        &user.username,
    );
    Ok(Json(SingleResponse::new(User::from(user))))
}
