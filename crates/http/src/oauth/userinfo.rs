//! `GET` and `POST /oauth2/userinfo` (OpenID Connect Core §5.3): who the user behind an access
//! token is, for a token granted `openid`.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use portcullis_oauth::{ClientError, ErrorCode};
use portcullis_services::tokens::userinfo::{self, Userinfo, UserinfoError as Refused};
use portcullis_storage::StorageError;

use super::reply::{self, Internal};
use crate::{AppState, requester::bearer};

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth2/userinfo", get(userinfo).post(userinfo))
}

async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match claims(&state, &headers).await {
        Ok(Userinfo::Json(body)) => reply::no_store_json(StatusCode::OK, &body),
        Ok(Userinfo::Jwt(jwt)) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/jwt"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            jwt,
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

async fn claims(state: &AppState, headers: &HeaderMap) -> Result<Userinfo, UserinfoError> {
    let token = bearer(headers).ok_or(UserinfoError::InvalidToken)?;
    userinfo::userinfo(
        state.database(),
        state.keystore(),
        state.urls().issuer(),
        token,
        state.now(),
    )
    .await
    .map_err(|error| match error {
        Refused::InvalidToken => UserinfoError::InvalidToken,
        Refused::InsufficientScope => UserinfoError::InsufficientScope,
        Refused::Internal(message) => UserinfoError::Internal(Internal::from(message)),
        Refused::Storage(error) => UserinfoError::Internal(Internal::from(error)),
    })
}

/// Why userinfo is refused, in RFC 6750 §3 terms.
#[derive(Debug)]
pub enum UserinfoError {
    /// No bearer token, or one that is unknown, expired, revoked, of a finished session or of
    /// a user who is locked or gone.
    InvalidToken,
    /// The token was not granted `openid`.
    InsufficientScope,
    /// Our fault.
    Internal(Internal),
}

impl From<StorageError> for UserinfoError {
    fn from(error: StorageError) -> Self {
        Self::Internal(error.into())
    }
}

impl From<Internal> for UserinfoError {
    fn from(error: Internal) -> Self {
        Self::Internal(error)
    }
}

impl IntoResponse for UserinfoError {
    fn into_response(self) -> Response {
        let (code, description, challenge) = match self {
            Self::Internal(internal) => return internal.response("userinfo"),
            Self::InvalidToken => (
                ErrorCode::InvalidToken,
                "the access token is missing, invalid or expired",
                "Bearer error=\"invalid_token\"",
            ),
            Self::InsufficientScope => (
                ErrorCode::InsufficientScope,
                "the access token was not granted the openid scope",
                "Bearer error=\"insufficient_scope\", scope=\"openid\"",
            ),
        };
        let mut response = reply::error(&ClientError::new(code).with_description(description));
        // RFC 6750 §3: the challenge says what went wrong.
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
        response
    }
}
