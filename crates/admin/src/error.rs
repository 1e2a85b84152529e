//! Errors in MAS's shape: `{"errors": [{"title": "…"}]}` with the status of the failure.

use aide::{OperationOutput, generate::GenContext, openapi::Operation};
use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use schemars::JsonSchema;
use serde::Serialize;

/// The body of every error.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorResponse {
    pub errors: Vec<Error>,
}

/// One error.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Error {
    pub title: String,
}

/// A refused or failed call.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    title: String,
}

impl ApiError {
    pub fn new(status: StatusCode, title: impl Into<String>) -> Self {
        Self {
            status,
            title: title.into(),
        }
    }

    pub fn bad_request(title: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, title)
    }

    pub fn not_found(title: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, title)
    }

    pub fn conflict(title: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, title)
    }

    pub fn forbidden(title: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, title)
    }

    /// A failure of ours; its cause goes to the log, not to the caller.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "admin API call failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }

    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<portcullis_storage::StorageError> for ApiError {
    fn from(error: portcullis_storage::StorageError) -> Self {
        Self::internal(&error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorResponse {
            errors: vec![Error { title: self.title }],
        };
        (self.status, Json(body)).into_response()
    }
}

impl OperationOutput for ApiError {
    type Inner = ErrorResponse;

    fn operation_response(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Option<aide::openapi::Response> {
        Json::<ErrorResponse>::operation_response(ctx, operation)
    }
}
