//! How the Matrix login API answers errors: `{"errcode": "M_…", "error": "…"}` with the status
//! the client-server specification gives each code, plus `retry_after_ms` (and `Retry-After`)
//! when rate-limited and `soft_logout` with unknown tokens.

use std::{borrow::Cow, time::Duration};

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use portcullis_homeserver::HomeserverError;
use portcullis_storage::StorageError;
use serde::Serialize;

/// A Matrix error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The Matrix error code (`M_FORBIDDEN`…).
    pub errcode: &'static str,
    /// A human-readable explanation.
    pub error: Cow<'static, str>,
    /// For `M_LIMIT_EXCEEDED`: how long to wait.
    pub retry_after: Option<Duration>,
    /// For `M_UNKNOWN_TOKEN`: whether the client may keep its data (we always say no).
    pub soft_logout: Option<bool>,
}

#[derive(Serialize)]
struct Body<'a> {
    errcode: &'a str,
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    soft_logout: Option<bool>,
}

impl MatrixError {
    /// An error with `status`, `errcode` and the explanation `error`.
    pub fn new(
        status: StatusCode,
        errcode: &'static str,
        error: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            errcode,
            error: error.into(),
            retry_after: None,
            soft_logout: None,
        }
    }

    /// 403 `M_FORBIDDEN`.
    pub fn forbidden(error: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "M_FORBIDDEN", error)
    }

    /// 400 `M_BAD_JSON`: JSON, but not the expected shape.
    pub fn bad_json(error: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "M_BAD_JSON", error)
    }

    /// 400 `M_NOT_JSON`.
    #[must_use]
    pub fn not_json() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "M_NOT_JSON",
            "The request body is not valid JSON",
        )
    }

    /// 400 `M_INVALID_PARAM`.
    pub fn invalid_param(error: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "M_INVALID_PARAM", error)
    }

    /// 400 `M_MISSING_PARAM`.
    pub fn missing_param(error: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "M_MISSING_PARAM", error)
    }

    /// 400 `M_UNRECOGNIZED`: a login type or identifier we do not support.
    pub fn unrecognized(error: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "M_UNRECOGNIZED", error)
    }

    /// 401 `M_MISSING_TOKEN`.
    #[must_use]
    pub fn missing_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "M_MISSING_TOKEN",
            "Missing access token",
        )
    }

    /// 401 `M_UNKNOWN_TOKEN` with `soft_logout: false`: the token is unknown, expired, or its
    /// session ended.
    pub fn unknown_token(error: impl Into<Cow<'static, str>>) -> Self {
        Self {
            soft_logout: Some(false),
            ..Self::new(StatusCode::UNAUTHORIZED, "M_UNKNOWN_TOKEN", error)
        }
    }

    /// 401 `M_USER_LOCKED` (MSC3939): the account is locked; its sessions are kept.
    #[must_use]
    pub fn user_locked() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "M_USER_LOCKED",
            "This account has been locked",
        )
    }

    /// 403 `M_USER_DEACTIVATED`.
    #[must_use]
    pub fn user_deactivated() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "M_USER_DEACTIVATED",
            "This account has been deactivated",
        )
    }

    /// 429 `M_LIMIT_EXCEEDED`, to retry after `wait`.
    #[must_use]
    pub fn limit_exceeded(wait: Duration) -> Self {
        Self {
            retry_after: Some(wait),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "M_LIMIT_EXCEEDED",
                "Too many attempts; wait before trying again",
            )
        }
    }

    /// 503 `M_UNKNOWN`, to retry after `wait`: the server is too busy (every password hasher
    /// taken) — not the client's fault, unlike `M_LIMIT_EXCEEDED`.
    #[must_use]
    pub fn busy(wait: Duration) -> Self {
        Self {
            retry_after: Some(wait),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "M_UNKNOWN",
                "The server is busy checking other passwords; try again shortly",
            )
        }
    }

    /// 503 `M_UNKNOWN`: the homeserver could not be told about the device, so nothing was done
    /// and the client may try again.
    #[must_use]
    pub fn homeserver_unavailable(error: &HomeserverError) -> Self {
        tracing::error!(%error, "cannot create the device on the homeserver");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "M_UNKNOWN",
            "The homeserver cannot be reached to set up this device; try again later",
        )
    }

    /// 500 `M_UNKNOWN`: our fault, logged with its detail and answered without it.
    pub fn internal(error: &dyn std::error::Error) -> Self {
        tracing::error!(%error, "internal error on the Matrix login API");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "M_UNKNOWN",
            "Internal error; try again later",
        )
    }
}

impl From<StorageError> for MatrixError {
    fn from(error: StorageError) -> Self {
        if error.is_unavailable() {
            crate::unavailable::log(&error, error.already_logged(), "Matrix login API");
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "M_UNKNOWN",
                "The service cannot reach its database; try again shortly",
            );
        }
        Self::internal(&error)
    }
}

impl IntoResponse for MatrixError {
    fn into_response(self) -> Response {
        let retry_after_ms = self
            .retry_after
            .map(|wait| u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
        let body = Body {
            errcode: self.errcode,
            error: &self.error,
            retry_after_ms,
            soft_logout: self.soft_logout,
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(wait) = self.retry_after {
            // Whole seconds, rounded up: retrying early would only be refused again.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

/// A successful JSON answer, never cached (it may carry tokens).
pub(crate) fn json_ok<T: Serialize>(body: &T) -> Response {
    let mut response = (StatusCode::OK, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;

    use super::*;

    async fn body(response: Response) -> serde_json::Value {
        let bytes = to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("readable");
        serde_json::from_slice(&bytes).expect("JSON")
    }

    #[tokio::test]
    async fn an_error_is_errcode_and_error() {
        let response = MatrixError::forbidden("no").into_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            body(response).await,
            serde_json::json!({"errcode": "M_FORBIDDEN", "error": "no"})
        );
    }

    #[tokio::test]
    async fn a_rate_limit_says_when_to_retry_in_the_body_and_the_header() {
        let response = MatrixError::limit_exceeded(Duration::from_millis(1500)).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from_static("2"))
        );
        let body = body(response).await;
        assert_eq!(body["errcode"], "M_LIMIT_EXCEEDED");
        assert_eq!(body["retry_after_ms"], 1500);
    }

    #[tokio::test]
    async fn a_busy_server_is_a_503_that_says_when_to_retry_and_blames_nobody() {
        let response = MatrixError::busy(Duration::from_secs(2)).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from_static("2"))
        );
        let body = body(response).await;
        assert_eq!(body["errcode"], "M_UNKNOWN");
        assert_eq!(body["retry_after_ms"], 2000);
    }

    #[tokio::test]
    async fn an_unknown_token_is_a_hard_logout() {
        let body = body(MatrixError::unknown_token("gone").into_response()).await;
        assert_eq!(body["soft_logout"], false);
    }
}
