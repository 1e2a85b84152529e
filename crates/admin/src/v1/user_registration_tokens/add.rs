//! `POST /user-registration-tokens`: a new token, given or generated.

use aide::transform::TransformOperation;
use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_services::registration_tokens::{self, NewToken, Problem};
use schemars::JsonSchema;
use serde::Deserialize;

use super::UserRegistrationToken;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::{self, JsonOrEmpty},
    response::SingleResponse,
};

#[derive(Default, Deserialize, JsonSchema)]
pub struct AddUserRegistrationTokenRequest {
    /// The token; 20 random letters and digits when absent.
    token: Option<String>,
    /// How many registrations it allows; unlimited when absent.
    usage_limit: Option<u32>,
    /// Until when it is accepted; forever when absent.
    expires_at: Option<DateTime<Utc>>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("addUserRegistrationToken")
        .tag("user-registration-token")
        .summary("Create a registration token")
        .response::<201, Json<SingleResponse<UserRegistrationToken>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| {
            r.description("An empty token, a usage limit of 0 or an expiry in the past")
        })
        .response_with::<409, Json<ErrorResponse>, _>(|r| r.description("The token exists"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    JsonOrEmpty(request): params::JsonOrEmpty<AddUserRegistrationTokenRequest>,
) -> Result<(StatusCode, Json<SingleResponse<UserRegistrationToken>>), ApiError> {
    let now = state.now();
    let new = NewToken {
        token: request.token.as_deref(),
        usage_limit: request.usage_limit,
        expires_at: request.expires_at,
    };
    let mut repo = state.database().transaction().await?;
    let issued = registration_tokens::issue(&mut *repo, &mut state.rng(), &new, now).await?;
    let (token, _) = match issued {
        Ok(issued) => issued,
        Err(Problem::Exists) => {
            return Err(ApiError::conflict("Registration token already exists"));
        }
        Err(problem) => {
            return Err(ApiError::bad_request(
                crate::v1::personal_sessions::capitalized(&problem.to_string()),
            ));
        }
    };
    repo.commit().await?;
    caller.record("create registration token", &token.id);
    Ok((
        StatusCode::CREATED,
        Json(SingleResponse::new(UserRegistrationToken::new(token, now))),
    ))
}
