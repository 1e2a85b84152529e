//! Who calls: every operation takes a [`CallContext`], which refuses the call unless its bearer
//! token opens the Admin API (`services::admin_access`).

use aide::OperationInput;
use axum::{extract::FromRequestParts, http::request::Parts};
use portcullis_http::{AppState, requester::bearer};
use portcullis_services::admin_access::{self, Caller, Refused};

use crate::error::ApiError;

/// The caller of an operation.
pub struct CallContext {
    pub caller: Caller,
}

impl FromRequestParts<AppState> for CallContext {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return Err(ApiError::bad_request("Missing Authorization header"));
        }
        let token = bearer(&parts.headers)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request("Invalid Authorization header: expected a Bearer token")
            })?;
        let checked = admin_access::authorize(state.database(), token, state.now()).await?;
        match checked {
            Ok(caller) => {
                tracing::debug!(caller = %caller.describe(), path = %parts.uri.path(), "admin API call");
                Ok(Self { caller })
            }
            Err(refused) => {
                let status = match refused {
                    Refused::MissingScope(_) => axum::http::StatusCode::FORBIDDEN,
                    Refused::UnsupportedTokenType
                    | Refused::UnknownToken
                    | Refused::UserLocked
                    | Refused::UserDeactivated => axum::http::StatusCode::UNAUTHORIZED,
                };
                Err(ApiError::new(status, refused.to_string()))
            }
        }
    }
}

impl CallContext {
    /// Records an action in the log, naming who took it.
    pub fn record(&self, action: &str, target: &dyn std::fmt::Display) {
        tracing::info!(caller = %self.caller.describe(), %target, "admin: {action}");
    }
}

// The security requirement is stated once for the whole document.
impl OperationInput for CallContext {}
