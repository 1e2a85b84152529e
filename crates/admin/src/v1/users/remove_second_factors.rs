//! `POST /users/{id}/remove-second-factors` (Portcullis's own, not in MAS): removes the user's
//! authenticator app, passkeys and recovery codes, for a user who lost them, as
//! `mas-cli manage remove-second-factors` does. Their next sign-in asks for the password only
//! (or has them add an authenticator app again, when the operator requires one). Logged with
//! the caller.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use portcullis_http::AppState;
use portcullis_services::second_factor;

use super::User;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("removeUserSecondFactors")
        .tag("user")
        .summary("Remove a user's second factors")
        .description(
            "An extension of Portcullis, not part of MAS's Admin API: removes the user's \
             authenticator app (TOTP) and recovery codes, so that their next sign-in asks for \
             the password only. Answers the user whether or not they had any.",
        )
        .response::<200, Json<SingleResponse<User>>>()
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<User>>, ApiError> {
    let mut repo = state.database().transaction().await?;
    let user = super::find(&mut *repo, id).await?;
    let removed = second_factor::remove_all(&mut *repo, &user).await?;
    repo.commit().await?;
    if removed {
        caller.record("remove second factors of user", &user.username);
    }
    Ok(Json(SingleResponse::new(User::from(user))))
}
