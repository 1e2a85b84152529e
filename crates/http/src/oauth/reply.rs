//! How the back-channel OAuth endpoints answer: JSON bodies, never cached, errors as
//! RFC 6749 §5.2 `{"error", "error_description"}` objects.

use axum::{
    Json,
    extract::{FromRequest, Request},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use portcullis_oauth::{ClientError, ErrorCode};
use serde::{Serialize, de::DeserializeOwned};

/// `body` as JSON with `status`, marked uncacheable: RFC 6749 §5.1 requires `Cache-Control:
/// no-store` and `Pragma: no-cache` on anything carrying tokens, and errors get the same so
/// that no intermediary keeps a stale answer.
pub(crate) fn no_store_json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A successful answer as uncacheable JSON (200), or the error in its own format.
pub(crate) fn answer<T: Serialize, E: IntoResponse>(result: Result<T, E>) -> Response {
    match result {
        Ok(body) => no_store_json(StatusCode::OK, &body),
        Err(error) => error.into_response(),
    }
}

/// An OAuth error body with the status its code calls for.
pub(crate) fn error(error: &ClientError) -> Response {
    no_store_json(error.status(), error)
}

/// A failure of ours rather than of the request: logged with its detail, shown as a bare
/// `server_error` so nothing about our insides reaches the client; or, when the database is
/// out of reach for a moment, `temporarily_unavailable` (503), which clients retry.
#[derive(Debug)]
pub struct Internal {
    detail: String,
    unavailable: bool,
    /// Logged already (an outage in progress, which the database pool reported).
    logged: bool,
}

impl Internal {
    /// The answer to the client; the detail goes to the log.
    pub(crate) fn response(&self, endpoint: &'static str) -> Response {
        if self.unavailable {
            crate::unavailable::log(&self.detail, self.logged, endpoint);
            let mut response = error(
                &ClientError::new(ErrorCode::TemporarilyUnavailable)
                    .with_description("the service cannot reach its database; try again shortly"),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        } else {
            tracing::error!(endpoint, error = %self.detail, "internal error on an OAuth endpoint");
            error(&ClientError::new(ErrorCode::ServerError))
        }
    }
}

impl From<portcullis_storage::StorageError> for Internal {
    fn from(error: portcullis_storage::StorageError) -> Self {
        Self {
            unavailable: error.is_unavailable(),
            logged: error.already_logged(),
            detail: error.to_string(),
        }
    }
}

impl From<portcullis_keys::SignError> for Internal {
    fn from(error: portcullis_keys::SignError) -> Self {
        Self::from(error.to_string())
    }
}

impl From<String> for Internal {
    fn from(detail: String) -> Self {
        Self {
            detail,
            unavailable: false,
            logged: false,
        }
    }
}

impl From<&str> for Internal {
    fn from(message: &str) -> Self {
        Self::from(message.to_owned())
    }
}

/// A form body (`application/x-www-form-urlencoded`) whose rejection speaks OAuth: a missing,
/// repeated or malformed parameter is `invalid_request` (RFC 6749 §3.1, §5.2), not axum's
/// plain-text 4xx.
pub struct OAuthForm<T>(pub T);

impl<T, S> FromRequest<S> for OAuthForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Self(value)),
            Err(rejection) => Err(error(
                &ClientError::new(ErrorCode::InvalidRequest)
                    .with_description(rejection.body_text()),
            )),
        }
    }
}
