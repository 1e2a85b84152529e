//! `POST /users`: creates an account, checked with the homeserver first (unless told not to),
//! and provisions it there.

use aide::transform::TransformOperation;
use axum::{Json, extract::State, http::StatusCode};
use portcullis_homeserver::LocalpartAvailability;
use portcullis_http::AppState;
use portcullis_model::Localpart;
use portcullis_services::account::{self, CreateAccountError, NewAccount};
use schemars::JsonSchema;
use serde::Deserialize;

use super::User;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params,
    response::SingleResponse,
};

#[derive(Deserialize, JsonSchema)]
pub struct AddUserRequest {
    /// The localpart of the new Matrix ID.
    username: String,
    /// Create the account even if the homeserver says the name is not available (for an
    /// account that already exists there, e.g. when importing users).
    #[serde(default)]
    skip_homeserver_check: bool,
    /// The display name, set on the homeserver.
    displayname: Option<String>,
    /// Not supported yet: setting it is refused rather than ignored.
    avatar_url: Option<String>,
}

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("createUser")
        .tag("user")
        .summary("Create a new user")
        .response::<201, Json<SingleResponse<User>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Invalid username"))
        .response_with::<409, Json<ErrorResponse>, _>(|r| {
            r.description("The username is taken, here or on the homeserver")
        })
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    params::Json(request): params::Json<AddUserRequest>,
) -> Result<(StatusCode, Json<SingleResponse<User>>), ApiError> {
    if request.avatar_url.is_some() {
        return Err(ApiError::bad_request(
            "avatar_url is not supported: set the avatar on the homeserver",
        ));
    }
    let server_name = &state.site_config().server_name;
    let localpart = Localpart::parse(&request.username, server_name)
        .map_err(|error| ApiError::bad_request(format!("Username is not valid: {error}")))?;
    // Checked before asking the homeserver: the answer is clearer.
    let mut repo = state.database().reader().await?;
    let existing = repo.users().find_by_username(localpart.as_str()).await?;
    repo.rollback().await?;
    if existing.is_some() {
        return Err(ApiError::conflict("User already exists"));
    }
    if !request.skip_homeserver_check {
        match state
            .homeserver()
            .is_localpart_available(localpart.as_str())
            .await
        {
            Ok(LocalpartAvailability::Available) => {}
            Ok(LocalpartAvailability::InUse) => {
                return Err(ApiError::conflict(
                    "Username is already taken on the homeserver",
                ));
            }
            Ok(LocalpartAvailability::Exclusive { reason }) => {
                return Err(ApiError::conflict(format!(
                    "Username is reserved by the homeserver: {reason}"
                )));
            }
            Ok(LocalpartAvailability::Invalid { reason }) => {
                return Err(ApiError::bad_request(format!(
                    "Username is not valid for the homeserver: {reason}"
                )));
            }
            Err(error) => {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("Cannot check the username with the homeserver: {error}"),
                ));
            }
        }
    }

    let account = NewAccount {
        username: localpart.as_str(),
        display_name: request.displayname.filter(|name| !name.trim().is_empty()),
        ..NewAccount::default()
    };
    let now = state.now();
    let mut repo = state.database().transaction().await?;
    let user = match account::create_user(&mut *repo, &account, now).await {
        Ok(user) => user,
        Err(CreateAccountError::UsernameTaken) => {
            return Err(ApiError::conflict("User already exists"));
        }
        Err(error) => return Err(ApiError::internal(&error)),
    };
    repo.commit().await?;
    caller.record("create user", &user.username);
    Ok((
        StatusCode::CREATED,
        Json(SingleResponse::new(User::from(user))),
    ))
}
