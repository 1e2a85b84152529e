//! `/api/account/v1`: a small self-service API for token holders (Portcullis's own), under the
//! `human` resource's origin, without cookies, with the APIs' CORS.
//!
//! - `POST /api/account/v1/allow-cross-signing-reset`: a token holding
//!   `urn:portcullis:account:cross_signing_reset` (personal access tokens only: the scope is
//!   never granted through `/authorize`, registration or the Matrix login API) opens its own
//!   user's 10-minute window to replace their cross-signing keys without interactive
//!   authentication, as `mas-cli manage allow-cross-signing-reset` does. How a bot unblocks
//!   itself. `{}` on success; otherwise a JSON error (`error`, `error_description`): 401 for a
//!   missing, unknown or dead token, 403 without the scope, 503 when the homeserver refuses.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::post,
};
use portcullis_oauth::{ClientError, ErrorCode, scope::ACCOUNT_CROSS_SIGNING_RESET};
use portcullis_services::{
    account::{self, CrossSigningResetError, ResetApprover},
    admin_access::{self, Refused},
};
use serde_json::json;

use crate::{AppState, oauth::reply, requester::bearer};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/account/v1/allow-cross-signing-reset",
            post(allow_cross_signing_reset),
        )
        .layer(crate::cors::api())
}

fn refuse(status: StatusCode, code: ErrorCode, description: &str) -> Response {
    reply::no_store_json(
        status,
        &ClientError::new(code).with_description(description),
    )
}

async fn allow_cross_signing_reset(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers).filter(|token| !token.is_empty()) else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidToken,
            "a bearer token is required",
        );
    };
    let checked = admin_access::authorize_scope(
        state.database(),
        token,
        ACCOUNT_CROSS_SIGNING_RESET,
        state.now(),
    )
    .await;
    let caller = match checked {
        Ok(Ok(caller)) => caller,
        Ok(Err(refused @ Refused::MissingScope(_))) => {
            return refuse(
                StatusCode::FORBIDDEN,
                ErrorCode::InsufficientScope,
                &refused.to_string(),
            );
        }
        Ok(Err(refused)) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidToken,
                &refused.to_string(),
            );
        }
        Err(error) => return reply::Internal::from(error).response("allow-cross-signing-reset"),
    };
    // Both kinds of token act as a user; one without (a client's own) cannot hold this scope.
    let Some(user) = caller.user.as_ref() else {
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorCode::InsufficientScope,
            "the token acts as no user",
        );
    };
    let approved_by = ResetApprover::UserToken {
        session: caller.session_id,
    };
    match account::allow_cross_signing_reset(state.homeserver().as_ref(), user, approved_by).await {
        Ok(()) => reply::no_store_json(StatusCode::OK, &json!({})),
        Err(CrossSigningResetError::Inactive) => refuse(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidToken,
            "the user is locked or deactivated",
        ),
        Err(CrossSigningResetError::Homeserver(error)) => {
            tracing::warn!(%error, user.id = %user.id, "the homeserver did not allow a cross-signing reset");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::TemporarilyUnavailable,
                "the homeserver did not allow the reset; try again later",
            )
        }
    }
}
