//! `POST /user-emails`: adds an address to a user, as verified (the policy does not apply to
//! an administrator).

use aide::transform::TransformOperation;
use axum::{Json, extract::State, http::StatusCode};
use portcullis_http::AppState;
use portcullis_services::account::{self, AddedEmail};
use schemars::JsonSchema;
use serde::Deserialize;
use ulid::Ulid;

use super::UserEmail;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params,
    response::SingleResponse,
    schema::UlidSchema,
};

#[derive(Deserialize, JsonSchema)]
pub struct AddUserEmailRequest {
    #[schemars(with = "UlidSchema")]
    user_id: Ulid,
    #[schemars(email)]
    email: String,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("addUserEmail")
        .tag("user-email")
        .summary("Add an email address to a user")
        .response::<201, Json<SingleResponse<UserEmail>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Not an email address"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such user"))
        .response_with::<409, Json<ErrorResponse>, _>(|r| r.description("The address is in use"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    params::Json(request): params::Json<AddUserEmailRequest>,
) -> Result<(StatusCode, Json<SingleResponse<UserEmail>>), ApiError> {
    let address = portcullis_email::parse_address(request.email.trim())
        .map_err(|error| ApiError::bad_request(format!("Email address is not valid: {error}")))?;
    let mut repo = state.database().transaction().await?;
    let user = repo
        .users()
        .find_by_id(request.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("User ID {} not found", request.user_id)))?;
    let email = match account::add_email(&mut *repo, &user, address.as_ref(), state.now()).await? {
        AddedEmail::Added(email) => email,
        AddedEmail::AlreadyTheirs(_) | AddedEmail::InUse { .. } => {
            return Err(ApiError::conflict("User email already in use"));
        }
    };
    repo.commit().await?;
    caller.record("add user email", &email.email);
    Ok((
        StatusCode::CREATED,
        Json(SingleResponse::new(UserEmail::from(email))),
    ))
}
