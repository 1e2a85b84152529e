//! `PUT /user-registration-tokens/{id}`: changes the expiry and the usage limit; a field
//! given as `null` is cleared, a field left out is kept.

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_services::registration_tokens;
use portcullis_storage::RegistrationTokenChange;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use super::UserRegistrationToken;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::{self, IdInPath},
    response::SingleResponse,
};

/// `Some(value)` when the field is present, `null` included (as `Some(None)`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, JsonSchema)]
pub struct EditUserRegistrationTokenRequest {
    /// The new expiry; `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    expires_at: Option<Option<DateTime<Utc>>>,
    /// The new usage limit; `null` for unlimited.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<u32>")]
    usage_limit: Option<Option<u32>>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("updateUserRegistrationToken")
        .tag("user-registration-token")
        .summary("Change a registration token")
        .response::<200, Json<SingleResponse<UserRegistrationToken>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("A usage limit of 0"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such token"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
    params::Json(request): params::Json<EditUserRegistrationTokenRequest>,
) -> Result<Json<SingleResponse<UserRegistrationToken>>, ApiError> {
    let change = RegistrationTokenChange {
        expires_at: request.expires_at,
        usage_limit: request.usage_limit,
    };
    let mut repo = state.database().transaction().await?;
    let token = registration_tokens::edit(&mut *repo, id, &change)
        .await?
        .map_err(|problem| {
            ApiError::bad_request(crate::v1::personal_sessions::capitalized(
                &problem.to_string(),
            ))
        })?
        .ok_or_else(|| ApiError::not_found(format!("Registration token ID {id} not found")))?;
    repo.commit().await?;
    caller.record("change registration token", &id);
    Ok(Json(SingleResponse::new(UserRegistrationToken::new(
        token,
        state.now(),
    ))))
}
