//! `POST /users/{id}/allow-cross-signing-reset` (Portcullis's own, not in MAS): lets the user
//! replace their cross-signing keys without interactive authentication for the next 10
//! minutes, as `mas-cli manage allow-cross-signing-reset` does, so that an operator's tooling
//! can unblock a bot without a browser.

use aide::transform::TransformOperation;
use axum::{Json, extract::State, http::StatusCode};
use portcullis_http::AppState;
use portcullis_services::account::{self, CrossSigningResetError, ResetApprover};

use super::User;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
    response::SingleResponse,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("allowUserCrossSigningReset")
        .tag("user")
        .summary("Allow a user to reset their cross-signing keys")
        .description(
            "An extension of Portcullis, not part of MAS's Admin API: opens the homeserver's \
             10-minute window in which the user may replace their cross-signing keys without \
             interactive authentication.",
        )
        .response::<200, Json<SingleResponse<User>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| {
            r.description("The user is locked or deactivated")
        })
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user"))
        .response_with::<503, Json<ErrorResponse>, _>(|r| {
            r.description("The homeserver did not answer or refused")
        })
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<Json<SingleResponse<User>>, ApiError> {
    let mut repo = state.database().reader().await?;
    let user = super::find(&mut *repo, id).await?;
    repo.rollback().await?;
    let caller_name = caller.caller.describe();
    let approved_by = ResetApprover::Administrator {
        caller: &caller_name,
        session: caller.caller.session_id,
    };
    match account::allow_cross_signing_reset(state.homeserver().as_ref(), &user, approved_by).await
    {
        Ok(()) => {}
        Err(CrossSigningResetError::Inactive) => {
            return Err(ApiError::bad_request(format!(
                "User ID {id} is locked or deactivated: no reset can be allowed"
            )));
        }
        Err(CrossSigningResetError::Homeserver(error)) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("The homeserver did not allow the reset: {error}"),
            ));
        }
    }
    caller.record("allow cross-signing reset for user", &user.username);
    Ok(Json(SingleResponse::new(User::from(user))))
}
