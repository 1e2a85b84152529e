//! `DELETE /user-emails/{id}`: removes an address (the homeserver learns the new list).

use aide::transform::TransformOperation;
use axum::{Json, extract::State, http::StatusCode};
use portcullis_http::AppState;
use portcullis_services::account;

use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::IdInPath,
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("deleteUserEmail")
        .tag("user-email")
        .summary("Delete an email address")
        .response_with::<204, (), _>(|r| r.description("Deleted"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such address"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
) -> Result<StatusCode, ApiError> {
    let mut repo = state.database().transaction().await?;
    let email = super::find(&mut *repo, id).await?;
    let user = repo
        .users()
        .find_by_id(email.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("User email ID {id} not found")))?;
    account::remove_email(&mut *repo, &user, id, state.now()).await?;
    repo.commit().await?;
    caller.record("delete user email", &email.email);
    Ok(StatusCode::NO_CONTENT)
}
