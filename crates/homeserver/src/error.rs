//! What can go wrong when talking to the homeserver, sorted by what the caller should do.

use std::time::Duration;

/// A call to the homeserver failed.
///
/// [`HomeserverError::is_retryable`] tells the job queue whether trying again later can help
/// (the homeserver is down, slow or overloaded) or not (a configuration mistake, a refusal).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HomeserverError {
    /// The connection could not be made or broke before an answer came.
    #[error(
        "could not reach the homeserver at {url} for `{operation}`: {detail} \
         (is it running, and is `matrix.endpoint` right?)"
    )]
    Unreachable {
        /// The `/_synapse/mas` endpoint called.
        operation: &'static str,
        /// The URL called.
        url: String,
        /// The innermost cause (connection refused, DNS failure...).
        detail: String,
    },

    /// No answer came in time.
    #[error("the homeserver at {url} did not answer `{operation}` within {timeout:?}")]
    TimedOut {
        /// The `/_synapse/mas` endpoint called.
        operation: &'static str,
        /// The URL called.
        url: String,
        /// How long we waited.
        timeout: Duration,
    },

    /// The homeserver does not accept our shared secret (HTTP 401 or 403).
    #[error(
        "the homeserver refused our shared secret on `{operation}` (HTTP {status}): \
         `matrix.secret` (or the file `matrix.secret_file` names) must hold the same value \
         as Synapse's `matrix_authentication_service.secret`{}",
        if *status == 401 { "; HTTP 401 means no secret reached Synapse: does a proxy drop the Authorization header?" } else { "" }
    )]
    SecretRefused {
        /// The `/_synapse/mas` endpoint called.
        operation: &'static str,
        /// 401 or 403.
        status: u16,
    },

    /// The homeserver has no such user (or, for a device call, no such device).
    #[error("the homeserver has no {what} (`{operation}`: {message})")]
    NotFound {
        /// The `/_synapse/mas` endpoint called.
        operation: &'static str,
        /// What was looked for: "user `alice`", or "user `alice` or device `ABC` of it".
        what: String,
        /// The homeserver's explanation.
        message: String,
    },

    /// The URL answers 404 without a Matrix error: no `/_synapse/mas` API is served there.
    #[error(
        "the homeserver does not serve {url} (HTTP 404): it needs Synapse 1.136 or later with \
         `matrix_authentication_service.enabled: true`, and `matrix.endpoint` must point at it"
    )]
    ApiMissing {
        /// The `/_synapse/mas` endpoint called.
        operation: &'static str,
        /// The URL called.
        url: String,
    },

    /// The homeserver asks us to slow down (HTTP 429).
    #[error("the homeserver is rate-limiting `{operation}`{}", retry_after_ms.map(|ms| format!("; retry after {ms} ms")).unwrap_or_default())]
    RateLimited {
        /// The `/_synapse/mas` endpoint called.
        operation: &'static str,
        /// The delay the homeserver asks for, if it says.
        retry_after_ms: Option<u64>,
    },

    /// The homeserver refused the request with a Matrix error (HTTP 4xx): sending it again
    /// will not help.
    #[error("the homeserver refused `{operation}` (HTTP {status}, {errcode}): {message}")]
    Refused {
        /// The `/_synapse/mas` endpoint called.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The Matrix `errcode`, such as `M_INVALID_USERNAME`.
        errcode: String,
        /// The Matrix `error` text.
        message: String,
    },

    /// The homeserver failed (HTTP 5xx): it may succeed later.
    #[error("the homeserver failed on `{operation}` (HTTP {status}): {detail}")]
    ServerError {
        /// The `/_synapse/mas` endpoint called.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The start of the body, or the Matrix error in it.
        detail: String,
    },

    /// An answer that fits none of the above: a redirect, a 4xx that is not a Matrix error,
    /// a success whose body we cannot read.
    #[error("unexpected answer from the homeserver to `{operation}` (HTTP {status}): {detail}")]
    UnexpectedResponse {
        /// The `/_synapse/mas` endpoint called.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// What was wrong with it.
        detail: String,
    },

    /// `matrix.kind` is `synapse_read_only`: nothing is written to the homeserver.
    #[error(
        "`{operation}` was not sent to the homeserver: `matrix.kind` is `synapse_read_only`, \
         which never writes to it"
    )]
    ReadOnly {
        /// The operation refused.
        operation: &'static str,
    },
}

impl HomeserverError {
    /// Whether the same call may succeed later without anyone changing anything: the
    /// homeserver was unreachable, slow, overloaded or failing.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable { .. }
            | Self::TimedOut { .. }
            | Self::RateLimited { .. }
            | Self::ServerError { .. } => true,
            Self::SecretRefused { .. }
            | Self::NotFound { .. }
            | Self::ApiMissing { .. }
            | Self::Refused { .. }
            | Self::UnexpectedResponse { .. }
            | Self::ReadOnly { .. } => false,
        }
    }

    /// The `/_synapse/mas` endpoint (or operation) that failed.
    #[must_use]
    pub fn operation(&self) -> &'static str {
        match self {
            Self::Unreachable { operation, .. }
            | Self::TimedOut { operation, .. }
            | Self::SecretRefused { operation, .. }
            | Self::NotFound { operation, .. }
            | Self::ApiMissing { operation, .. }
            | Self::RateLimited { operation, .. }
            | Self::Refused { operation, .. }
            | Self::ServerError { operation, .. }
            | Self::UnexpectedResponse { operation, .. }
            | Self::ReadOnly { operation } => operation,
        }
    }
}
