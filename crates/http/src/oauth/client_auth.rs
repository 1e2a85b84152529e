//! Client authentication at the back-channel endpoints: reading the credentials of a request
//! (`Authorization: Basic` or the form, RFC 6749 §2.3.1; a JWT assertion, RFC 7523) and
//! answering a refusal; the checks themselves are in `portcullis_services::client_auth`.
//!
//! Whatever goes wrong is `invalid_client` with status 401 (RFC 6749 §5.2), plus a
//! `WWW-Authenticate: Basic` challenge when the client tried Basic.

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64ct::{Base64, Encoding as _};
use portcullis_model::OAuthClient;
use portcullis_oauth::{ClientError, ErrorCode, requests::ClientAuthParams};
pub use portcullis_services::client_auth::{ClientAuthError, Credentials};
use portcullis_services::client_auth::{ClientAuthenticator, JWT_BEARER_ASSERTION};
use url::Url;
use zeroize::Zeroizing;

use super::reply::{self, Internal};
use crate::AppState;

/// Reads the credentials of a request from its `Authorization` header and its form.
///
/// # Errors
/// When there are none, when they are malformed, or when more than one method is used at
/// once (RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request").
pub fn credentials(
    headers: &HeaderMap,
    params: &ClientAuthParams,
) -> Result<Credentials, ClientAuthFailure> {
    let basic = parse_basic(headers).map_err(|error| ClientAuthFailure { error, basic: true })?;
    let tried_basic = basic.is_some();
    let failure = |error| ClientAuthFailure {
        error,
        basic: tried_basic,
    };

    match (basic, &params.client_assertion, &params.client_secret) {
        (Some((client_id, client_secret)), None, None) => {
            if params
                .client_id
                .as_deref()
                .is_some_and(|form_id| form_id != client_id)
            {
                return Err(failure(ClientAuthError::ConflictingClientIds));
            }
            Ok(Credentials::ClientSecretBasic {
                client_id,
                client_secret,
            })
        }
        (Some(_), _, _) | (None, Some(_), Some(_)) => Err(failure(ClientAuthError::SeveralMethods)),
        (None, Some(assertion), None) => {
            if params.client_assertion_type.as_deref() != Some(JWT_BEARER_ASSERTION) {
                return Err(failure(ClientAuthError::UnsupportedAssertionType));
            }
            Ok(Credentials::ClientAssertion {
                client_id: params.client_id.clone(),
                assertion: assertion.clone(),
            })
        }
        (None, None, Some(secret)) => match &params.client_id {
            Some(client_id) => Ok(Credentials::ClientSecretPost {
                client_id: client_id.clone(),
                client_secret: Zeroizing::new(secret.clone()),
            }),
            None => Err(failure(ClientAuthError::Missing)),
        },
        (None, None, None) => match &params.client_id {
            Some(client_id) => Ok(Credentials::None {
                client_id: client_id.clone(),
            }),
            None => Err(failure(ClientAuthError::Missing)),
        },
    }
}

/// `Authorization: Basic base64(urlencode(client_id) ":" urlencode(secret))`, if the header
/// uses that scheme (RFC 6749 §2.3.1); another scheme is not ours to judge here.
fn parse_basic(
    headers: &HeaderMap,
) -> Result<Option<(String, Zeroizing<String>)>, ClientAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let Some(encoded) = value
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .and_then(|(scheme, rest)| scheme.eq_ignore_ascii_case("basic").then_some(rest))
    else {
        return Ok(None);
    };
    let decoded = Zeroizing::new(
        Base64::decode_vec(encoded.trim()).map_err(|_| ClientAuthError::MalformedBasic)?,
    );
    let decoded = std::str::from_utf8(&decoded).map_err(|_| ClientAuthError::MalformedBasic)?;
    let (client_id, secret) = decoded
        .split_once(':')
        .ok_or(ClientAuthError::MalformedBasic)?;
    let client_id = form_decode(client_id).ok_or(ClientAuthError::MalformedBasic)?;
    let secret = Zeroizing::new(form_decode(secret).ok_or(ClientAuthError::MalformedBasic)?);
    if client_id.is_empty() {
        return Err(ClientAuthError::MalformedBasic);
    }
    Ok(Some((client_id, secret)))
}

/// Undoes `application/x-www-form-urlencoded` encoding (`+` and `%XX`), as `url`'s
/// `form_urlencoded` does for one value (it would also split at `=` and `&`, which a client
/// secret may hold unescaped); `None` when the result is not UTF-8. A malformed escape is kept
/// as typed.
fn form_decode(input: &str) -> Option<String> {
    let spaced = input.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

/// A failed client authentication, with whether to challenge for Basic in the answer.
#[derive(Debug)]
pub struct ClientAuthFailure {
    pub error: ClientAuthError,
    basic: bool,
}

impl ClientAuthFailure {
    /// A failure of a request that did not try Basic.
    #[must_use]
    pub fn new(error: ClientAuthError) -> Self {
        Self {
            error,
            basic: false,
        }
    }

    /// The answer, at an endpoint named `endpoint` (for the log of internal errors).
    pub fn response(&self, endpoint: &'static str) -> Response {
        match &self.error {
            ClientAuthError::Internal(message) => {
                return Internal::from(message.clone()).response(endpoint);
            }
            ClientAuthError::Storage(error) => {
                return Internal::from(error.clone()).response(endpoint);
            }
            _ => {}
        }
        let body =
            ClientError::new(ErrorCode::InvalidClient).with_description(self.error.to_string());
        let mut response = reply::no_store_json(StatusCode::UNAUTHORIZED, &body);
        if self.basic {
            // RFC 6749 §5.2: a client that tried the Authorization header gets a challenge for
            // the scheme it used.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"OAuth 2.0 client\""),
            );
        }
        response
    }
}

impl IntoResponse for ClientAuthFailure {
    fn into_response(self) -> Response {
        self.response("client authentication")
    }
}

/// The client the credentials prove, checked with the method it registered.
///
/// `endpoint` is the URL the request was sent to: with the token endpoint and the issuer, it
/// is an audience assertions may name.
///
/// This is a unit of work of its own, committed before the endpoint starts its own: the `jti`
/// of an accepted assertion must stay recorded even when the rest of the request fails.
///
/// # Errors
/// [`ClientAuthFailure`] for any mismatch, [`ClientAuthError::Internal`] if storage fails.
pub async fn authenticate(
    state: &AppState,
    credentials: &Credentials,
    endpoint: &Url,
) -> Result<OAuthClient, ClientAuthFailure> {
    let basic = credentials.uses_basic();
    let failure = |error| ClientAuthFailure { error, basic };
    let internal = |error: portcullis_storage::StorageError| failure(ClientAuthError::from(error));
    let mut repo = state.database().transaction().await.map_err(internal)?;
    let token_endpoint = state.urls().token_endpoint();
    let authenticator = ClientAuthenticator {
        encrypter: state.encrypter(),
        jwks_cache: state.jwks_cache(),
        token_endpoint: &token_endpoint,
        issuer: state.urls().issuer(),
        now: state.now(),
    };
    let client = authenticator
        .authenticate(&mut *repo, credentials, endpoint)
        .await
        .map_err(failure)?;
    repo.commit().await.map_err(internal)?;
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_undoes_plus_and_percent_escapes() {
        assert_eq!(form_decode("a+b%3Ac%25").as_deref(), Some("a b:c%"));
        assert_eq!(form_decode("plain").as_deref(), Some("plain"));
    }

    #[test]
    fn a_malformed_escape_is_kept_as_typed_and_bad_utf8_is_refused() {
        assert_eq!(form_decode("abc%4").as_deref(), Some("abc%4"));
        assert_eq!(form_decode("%zz").as_deref(), Some("%zz"));
        assert_eq!(form_decode("%ff%fe"), None);
    }
}
