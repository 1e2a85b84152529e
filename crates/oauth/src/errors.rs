//! OAuth 2.0 and OpenID Connect error codes and the JSON error body.
//!
//! The codes are those of RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1,
//! RFC 7591 §3.2.2, RFC 8628 §3.5 and OpenID Connect Core §3.1.2.6. The body is RFC 6749 §5.2's:
//! `{"error": "...", "error_description": "..."}`, the description omitted when absent.

use std::fmt;

use http::StatusCode;
use serde::{Deserialize, Serialize};

/// An error code, serialised as on the wire (`invalid_request`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// RFC 6749: missing, repeated or malformed parameter.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClient,
    /// RFC 6749 §5.2: the grant (code, refresh token, device code...) is invalid, expired,
    /// revoked or was issued to another client.
    InvalidGrant,
    /// RFC 6749: the client may not use this grant or response type.
    UnauthorizedClient,
    /// RFC 6749 §5.2: the grant type is not supported.
    UnsupportedGrantType,
    /// RFC 6749: the scope is invalid, unknown, malformed or exceeds what was granted.
    InvalidScope,
    /// RFC 6749 §4.1.2.1, RFC 8628 §3.5: the resource owner or the server denied the request.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: the response type is not supported.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1: an unexpected condition.
    ServerError,
    /// RFC 6749 §4.1.2.1: temporary overload or maintenance.
    TemporarilyUnavailable,
    /// OIDC Core §3.1.2.6: user interaction is required.
    InteractionRequired,
    /// OIDC Core §3.1.2.6: the user must authenticate.
    LoginRequired,
    /// OIDC Core §3.1.2.6: the user must select an account.
    AccountSelectionRequired,
    /// OIDC Core §3.1.2.6: the user must consent.
    ConsentRequired,
    /// OIDC Core §3.1.2.6: the `request_uri` is invalid.
    InvalidRequestUri,
    /// OIDC Core §3.1.2.6: the request object is invalid.
    InvalidRequestObject,
    /// OIDC Core §6.1: the `request` parameter is not supported.
    RequestNotSupported,
    /// OIDC Core §6.2: the `request_uri` parameter is not supported.
    RequestUriNotSupported,
    /// OIDC Core §7.2.1: the `registration` parameter is not supported.
    RegistrationNotSupported,
    /// RFC 7591 §3.2.2: a redirect URI is invalid.
    InvalidRedirectUri,
    /// RFC 7591 §3.2.2: a metadata field is invalid.
    InvalidClientMetadata,
    /// RFC 7591 §3.2.2: the software statement is invalid.
    InvalidSoftwareStatement,
    /// RFC 7591 §3.2.2: the software statement is not approved.
    UnapprovedSoftwareStatement,
    /// RFC 8628 §3.5: the user has not acted yet; keep polling.
    AuthorizationPending,
    /// RFC 8628 §3.5: polling too fast; add 5 seconds to the interval.
    SlowDown,
    /// RFC 8628 §3.5: the device code expired.
    ExpiredToken,
    /// RFC 7009 §2.2.1: revocation of this token type is not supported.
    UnsupportedTokenType,
    /// RFC 6750 §3.1: the access token is invalid.
    InvalidToken,
    /// RFC 6750 §3.1: the access token lacks a required scope.
    InsufficientScope,
}

impl ErrorCode {
    /// The code as on the wire.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::InteractionRequired => "interaction_required",
            Self::LoginRequired => "login_required",
            Self::AccountSelectionRequired => "account_selection_required",
            Self::ConsentRequired => "consent_required",
            Self::InvalidRequestUri => "invalid_request_uri",
            Self::InvalidRequestObject => "invalid_request_object",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::RegistrationNotSupported => "registration_not_supported",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidSoftwareStatement => "invalid_software_statement",
            Self::UnapprovedSoftwareStatement => "unapproved_software_statement",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }

    /// The HTTP status an endpoint answering with this code in a JSON body uses by default.
    ///
    /// RFC 6749 §5.2 answers 400 for everything but a failed client authentication (401);
    /// RFC 6750 §3.1 gives 401 to `invalid_token` and 403 to `insufficient_scope`; the statuses
    /// of `server_error` and `temporarily_unavailable` are the ones their names describe (these
    /// two codes exist because a redirect cannot carry a 5xx status, RFC 6749 §4.1.2.1).
    #[must_use]
    pub const fn default_status(self) -> StatusCode {
        match self {
            Self::InvalidClient | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope => StatusCode::FORBIDDEN,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of an OAuth error response (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{error}")]
pub struct ClientError {
    /// The error code.
    pub error: ErrorCode,
    /// A human-readable explanation for the client developer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl ClientError {
    /// An error with no description.
    #[must_use]
    pub const fn new(error: ErrorCode) -> Self {
        Self {
            error,
            error_description: None,
        }
    }

    /// Add a description. RFC 6749 §5.2 limits it to printable ASCII without `"` and `\`: other
    /// characters are replaced (`"` by `'`, the rest by `?`) so the body is always conformant.
    #[must_use]
    pub fn with_description(mut self, description: impl AsRef<str>) -> Self {
        let sanitized = description
            .as_ref()
            .chars()
            .map(|c| match c {
                '"' => '\'',
                '\\' => '?',
                ' '..='~' => c,
                _ => '?',
            })
            .collect();
        self.error_description = Some(sanitized);
        self
    }

    /// The HTTP status of [`ErrorCode::default_status`].
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        self.error.default_status()
    }
}

impl From<ErrorCode> for ClientError {
    fn from(error: ErrorCode) -> Self {
        Self::new(error)
    }
}

/// An error that a client is told about with an OAuth error code; its `Display` is the
/// description.
pub trait ToClientError: fmt::Display {
    /// The OAuth error code of this error.
    fn error_code(&self) -> ErrorCode;

    /// The error body: the code and this error's message as the description.
    fn to_client_error(&self) -> ClientError {
        ClientError::new(self.error_code()).with_description(self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [(ErrorCode, &str); 29] = [
        (ErrorCode::InvalidRequest, "invalid_request"),
        (ErrorCode::InvalidClient, "invalid_client"),
        (ErrorCode::InvalidGrant, "invalid_grant"),
        (ErrorCode::UnauthorizedClient, "unauthorized_client"),
        (ErrorCode::UnsupportedGrantType, "unsupported_grant_type"),
        (ErrorCode::InvalidScope, "invalid_scope"),
        (ErrorCode::AccessDenied, "access_denied"),
        (
            ErrorCode::UnsupportedResponseType,
            "unsupported_response_type",
        ),
        (ErrorCode::ServerError, "server_error"),
        (ErrorCode::TemporarilyUnavailable, "temporarily_unavailable"),
        (ErrorCode::InteractionRequired, "interaction_required"),
        (ErrorCode::LoginRequired, "login_required"),
        (
            ErrorCode::AccountSelectionRequired,
            "account_selection_required",
        ),
        (ErrorCode::ConsentRequired, "consent_required"),
        (ErrorCode::InvalidRequestUri, "invalid_request_uri"),
        (ErrorCode::InvalidRequestObject, "invalid_request_object"),
        (ErrorCode::RequestNotSupported, "request_not_supported"),
        (
            ErrorCode::RequestUriNotSupported,
            "request_uri_not_supported",
        ),
        (
            ErrorCode::RegistrationNotSupported,
            "registration_not_supported",
        ),
        (ErrorCode::InvalidRedirectUri, "invalid_redirect_uri"),
        (ErrorCode::InvalidClientMetadata, "invalid_client_metadata"),
        (
            ErrorCode::InvalidSoftwareStatement,
            "invalid_software_statement",
        ),
        (
            ErrorCode::UnapprovedSoftwareStatement,
            "unapproved_software_statement",
        ),
        (ErrorCode::AuthorizationPending, "authorization_pending"),
        (ErrorCode::SlowDown, "slow_down"),
        (ErrorCode::ExpiredToken, "expired_token"),
        (ErrorCode::UnsupportedTokenType, "unsupported_token_type"),
        (ErrorCode::InvalidToken, "invalid_token"),
        (ErrorCode::InsufficientScope, "insufficient_scope"),
    ];

    #[test]
    fn every_code_serialises_to_its_wire_name() {
        for (code, name) in ALL {
            assert_eq!(
                serde_json::to_value(code).expect("serialisable"),
                serde_json::Value::String(name.to_owned())
            );
        }
    }

    #[test]
    fn every_code_deserialises_from_its_wire_name() {
        for (code, name) in ALL {
            let parsed: ErrorCode =
                serde_json::from_value(serde_json::Value::String(name.to_owned()))
                    .expect("known code");
            assert_eq!(parsed, code);
        }
    }

    #[test]
    fn as_str_agrees_with_serde() {
        for (code, name) in ALL {
            assert_eq!(code.as_str(), name);
        }
    }

    #[test]
    fn invalid_client_defaults_to_401() {
        assert_eq!(
            ErrorCode::InvalidClient.default_status(),
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn invalid_token_defaults_to_401() {
        assert_eq!(
            ErrorCode::InvalidToken.default_status(),
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn insufficient_scope_defaults_to_403() {
        assert_eq!(
            ErrorCode::InsufficientScope.default_status(),
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn server_error_defaults_to_500() {
        assert_eq!(
            ErrorCode::ServerError.default_status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn temporarily_unavailable_defaults_to_503() {
        assert_eq!(
            ErrorCode::TemporarilyUnavailable.default_status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn every_other_code_defaults_to_400() {
        let special = [
            ErrorCode::InvalidClient,
            ErrorCode::InvalidToken,
            ErrorCode::InsufficientScope,
            ErrorCode::ServerError,
            ErrorCode::TemporarilyUnavailable,
        ];
        for (code, _) in ALL.iter().filter(|(c, _)| !special.contains(c)) {
            assert_eq!(code.default_status(), StatusCode::BAD_REQUEST, "{code}");
        }
    }

    #[test]
    fn an_error_without_description_serialises_without_the_field() {
        let body = serde_json::to_string(&ClientError::new(ErrorCode::InvalidGrant))
            .expect("serialisable");
        assert_eq!(body, r#"{"error":"invalid_grant"}"#);
    }

    #[test]
    fn an_error_with_description_serialises_both_fields() {
        let error = ClientError::new(ErrorCode::InvalidScope).with_description("unknown scope");
        assert_eq!(
            serde_json::to_string(&error).expect("serialisable"),
            r#"{"error":"invalid_scope","error_description":"unknown scope"}"#
        );
    }

    #[test]
    fn a_description_with_forbidden_characters_is_made_conformant() {
        let error =
            ClientError::new(ErrorCode::InvalidRequest).with_description("bad \"é\"\\\n value");
        assert_eq!(error.error_description.as_deref(), Some("bad '?'?? value"));
    }

    #[test]
    fn an_unknown_code_does_not_deserialise() {
        assert!(serde_json::from_str::<ErrorCode>("\"not_a_code\"").is_err());
    }
}
