//! Client authentication at the back-channel endpoints (token, introspection, revocation).
//!
//! A client proves who it is with the method it registered (`token_endpoint_auth_method`):
//! - `none`: a public client only names itself with `client_id`;
//! - `client_secret_basic` / `client_secret_post`: the secret in `Authorization: Basic`, or in
//!   the form (RFC 6749 §2.3.1);
//! - `client_secret_jwt` / `private_key_jwt`: a JWT assertion (RFC 7523 §2.2, OpenID Connect
//!   Core §9) signed with the secret (HMAC) or with a key of the client's registered `jwks`.
//!
//! Whatever goes wrong is `invalid_client` with status 401 (RFC 6749 §5.2), plus a
//! `WWW-Authenticate: Basic` challenge when the client tried Basic.

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64ct::{Base64, Encoding as _};
use chrono::{DateTime, TimeZone as _, Utc};
use portcullis_keys::{UnverifiedJws, VerifyError};
use portcullis_model::OAuthClient;
use portcullis_oauth::{ClientError, ErrorCode, requests::ClientAuthParams};
use portcullis_storage::Repository;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq as _;
use url::Url;
use zeroize::Zeroizing;

use super::reply::{self, Internal};
use crate::AppState;

/// RFC 7523 §2.2: the only `client_assertion_type` there is.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What a request presented to say which client sent it.
pub enum Credentials {
    /// Only a `client_id`: a public client.
    None { client_id: String },
    /// `Authorization: Basic`.
    ClientSecretBasic {
        client_id: String,
        client_secret: Zeroizing<String>,
    },
    /// `client_id` and `client_secret` in the form.
    ClientSecretPost {
        client_id: String,
        client_secret: Zeroizing<String>,
    },
    /// A JWT assertion; whether it is `client_secret_jwt` or `private_key_jwt` depends on its
    /// algorithm.
    ClientAssertion {
        client_id: Option<String>,
        assertion: String,
    },
}

impl Credentials {
    /// Reads the credentials of a request from its `Authorization` header and its form.
    ///
    /// # Errors
    /// When there are none, when they are malformed, or when more than one method is used at
    /// once (RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request").
    pub fn from_request(
        headers: &HeaderMap,
        params: &ClientAuthParams,
    ) -> Result<Self, ClientAuthFailure> {
        let basic =
            parse_basic(headers).map_err(|error| ClientAuthFailure { error, basic: true })?;
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
                Ok(Self::ClientSecretBasic {
                    client_id,
                    client_secret,
                })
            }
            (Some(_), _, _) | (None, Some(_), Some(_)) => {
                Err(failure(ClientAuthError::SeveralMethods))
            }
            (None, Some(assertion), None) => {
                if params.client_assertion_type.as_deref() != Some(JWT_BEARER_ASSERTION) {
                    return Err(failure(ClientAuthError::UnsupportedAssertionType));
                }
                Ok(Self::ClientAssertion {
                    client_id: params.client_id.clone(),
                    assertion: assertion.clone(),
                })
            }
            (None, None, Some(secret)) => match &params.client_id {
                Some(client_id) => Ok(Self::ClientSecretPost {
                    client_id: client_id.clone(),
                    client_secret: Zeroizing::new(secret.clone()),
                }),
                None => Err(failure(ClientAuthError::Missing)),
            },
            (None, None, None) => match &params.client_id {
                Some(client_id) => Ok(Self::None {
                    client_id: client_id.clone(),
                }),
                None => Err(failure(ClientAuthError::Missing)),
            },
        }
    }

    fn uses_basic(&self) -> bool {
        matches!(self, Self::ClientSecretBasic { .. })
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

/// Why a client is not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum ClientAuthError {
    #[error("client authentication is required")]
    Missing,
    #[error("the Basic authorization header is malformed")]
    MalformedBasic,
    #[error("the client_id of the form differs from the one of the Authorization header")]
    ConflictingClientIds,
    #[error("only one client authentication method may be used in a request")]
    SeveralMethods,
    #[error("client_assertion_type must be {JWT_BEARER_ASSERTION}")]
    UnsupportedAssertionType,
    #[error("unknown client")]
    UnknownClient,
    #[error("the client is registered with the {registered} authentication method, not {used}")]
    WrongMethod {
        registered: String,
        used: &'static str,
    },
    #[error("invalid client secret")]
    WrongSecret,
    #[error("invalid client assertion: {0}")]
    InvalidAssertion(&'static str),
    #[error("this client assertion was already used")]
    ReplayedAssertion,
    #[error("the client's keys cannot be fetched: {0}")]
    JwksUnavailable(String),
    #[error("internal error")]
    Internal(Internal),
}

impl From<Internal> for ClientAuthError {
    fn from(error: Internal) -> Self {
        Self::Internal(error)
    }
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
        if let ClientAuthError::Internal(internal) = &self.error {
            return internal.response(endpoint);
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
    let internal = |error: portcullis_storage::StorageError| failure(Internal::from(error).into());
    let mut repo = state.database().transaction().await.map_err(internal)?;
    let client = authenticate_inner(state, &mut *repo, credentials, endpoint)
        .await
        .map_err(failure)?;
    repo.commit().await.map_err(internal)?;
    Ok(client)
}

async fn authenticate_inner(
    state: &AppState,
    repo: &mut dyn Repository,
    credentials: &Credentials,
    endpoint: &Url,
) -> Result<OAuthClient, ClientAuthError> {
    match credentials {
        Credentials::None { client_id } => {
            let client = find_client(repo, client_id).await?;
            expect_method(&client, "none")?;
            Ok(client)
        }
        Credentials::ClientSecretBasic {
            client_id,
            client_secret,
        }
        | Credentials::ClientSecretPost {
            client_id,
            client_secret,
        } => {
            let client = find_client(repo, client_id).await?;
            let method = if credentials.uses_basic() {
                "client_secret_basic"
            } else {
                "client_secret_post"
            };
            expect_method(&client, method)?;
            let secret = client_secret_of(state, &client)?;
            if bool::from(secret.as_slice().ct_eq(client_secret.as_bytes())) {
                Ok(client)
            } else {
                Err(ClientAuthError::WrongSecret)
            }
        }
        Credentials::ClientAssertion {
            client_id,
            assertion,
        } => authenticate_assertion(state, repo, client_id.as_deref(), assertion, endpoint).await,
    }
}

async fn find_client(
    repo: &mut dyn Repository,
    client_id: &str,
) -> Result<OAuthClient, ClientAuthError> {
    repo.oauth_clients()
        .find_by_client_id(client_id)
        .await
        .map_err(Internal::from)?
        .ok_or(ClientAuthError::UnknownClient)
}

fn expect_method(client: &OAuthClient, used: &'static str) -> Result<(), ClientAuthError> {
    if client.client_auth_method == used {
        Ok(())
    } else {
        Err(ClientAuthError::WrongMethod {
            registered: client.client_auth_method.clone(),
            used,
        })
    }
}

/// The client's secret in clear. A client registered with a secret method but without a
/// stored secret cannot authenticate; a secret we cannot decrypt is our fault.
fn client_secret_of(
    state: &AppState,
    client: &OAuthClient,
) -> Result<Zeroizing<Vec<u8>>, ClientAuthError> {
    let encrypted = client
        .encrypted_client_secret
        .as_deref()
        .ok_or(ClientAuthError::WrongSecret)?;
    state
        .encrypter()
        .decrypt(encrypted)
        .map(Zeroizing::new)
        .map_err(|error| {
            ClientAuthError::Internal(Internal::from(format!(
                "cannot decrypt the secret of client {}: {error}",
                client.client_id
            )))
        })
}

async fn authenticate_assertion(
    state: &AppState,
    repo: &mut dyn Repository,
    form_client_id: Option<&str>,
    assertion: &str,
    endpoint: &Url,
) -> Result<OAuthClient, ClientAuthError> {
    let jws = UnverifiedJws::parse(assertion).map_err(|error| match error {
        VerifyError::CriticalHeader => {
            ClientAuthError::InvalidAssertion("critical header parameters are not supported")
        }
        _ => ClientAuthError::InvalidAssertion("not a compact JWS"),
    })?;
    // RFC 7523 §3: the subject is the client; a `client_id` in the form must agree with it.
    let subject = jws
        .claims()
        .get("sub")
        .and_then(Value::as_str)
        .ok_or(ClientAuthError::InvalidAssertion("no sub claim"))?;
    if form_client_id.is_some_and(|form_id| form_id != subject) {
        return Err(ClientAuthError::ConflictingClientIds);
    }
    let client = find_client(repo, subject).await?;

    let alg = jws
        .alg()
        .ok_or(ClientAuthError::InvalidAssertion("no alg header"))?;
    if client
        .token_endpoint_auth_signing_alg
        .as_deref()
        .is_some_and(|registered| registered != alg)
    {
        return Err(ClientAuthError::InvalidAssertion(
            "not signed with the client's registered algorithm",
        ));
    }

    if alg.starts_with("HS") {
        expect_method(&client, "client_secret_jwt")?;
        let secret = client_secret_of(state, &client)?;
        jws.verify_with_secret(&secret)
            .map_err(|error| match error {
                VerifyError::UnsupportedAlgorithm(_) => {
                    ClientAuthError::InvalidAssertion("unsupported algorithm")
                }
                _ => ClientAuthError::InvalidAssertion("bad signature"),
            })?;
    } else {
        expect_method(&client, "private_key_jwt")?;
        match (&client.jwks, &client.jwks_uri) {
            (Some(jwks), _) => {
                jws.verify_with_jwks(&jwks.to_string())
                    .map_err(|_| ClientAuthError::InvalidAssertion("bad signature"))?;
            }
            (None, Some(uri)) => {
                let cache = state.jwks_cache();
                let jwks = cache
                    .get(uri, false)
                    .await
                    .map_err(ClientAuthError::JwksUnavailable)?;
                if jws.verify_with_jwks(&jwks).is_err() {
                    // Maybe a key the client just rotated in: look once more before refusing.
                    let jwks = cache
                        .get(uri, true)
                        .await
                        .map_err(ClientAuthError::JwksUnavailable)?;
                    jws.verify_with_jwks(&jwks)
                        .map_err(|_| ClientAuthError::InvalidAssertion("bad signature"))?;
                }
            }
            (None, None) => {
                return Err(ClientAuthError::InvalidAssertion(
                    "the client has no registered keys",
                ));
            }
        }
    }

    let audiences = [
        state.urls().token_endpoint().to_string(),
        state.urls().issuer().to_string(),
        endpoint.to_string(),
    ];
    let now = state.now();
    let claims = check_claims(jws.claims(), &client.client_id, &audiences, now)?;
    let first_use = repo
        .oauth_client_assertions()
        .record_jti(&client, &claims.jti, claims.expires_at, now)
        .await
        .map_err(Internal::from)?;
    if !first_use {
        // RFC 7523 §3 item 7: a server may refuse a JWT it has seen, to stop replays.
        return Err(ClientAuthError::ReplayedAssertion);
    }
    Ok(client)
}

/// What the claims of a valid assertion give.
struct AssertionClaims {
    jti: String,
    expires_at: DateTime<Utc>,
}

/// RFC 7523 §3: `iss` and `sub` are the client, `aud` names us, `exp` is in the future, and
/// (our replay protection needs it) `jti` is present.
fn check_claims(
    claims: &Map<String, Value>,
    client_id: &str,
    audiences: &[String],
    now: DateTime<Utc>,
) -> Result<AssertionClaims, ClientAuthError> {
    let string = |name: &str| claims.get(name).and_then(Value::as_str);
    if string("iss") != Some(client_id) || string("sub") != Some(client_id) {
        return Err(ClientAuthError::InvalidAssertion(
            "iss and sub must both be the client_id",
        ));
    }

    let ours = |aud: &str| {
        audiences
            .iter()
            .any(|accepted| accepted.trim_end_matches('/') == aud.trim_end_matches('/'))
    };
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => ours(aud),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(ours),
        _ => false,
    };
    if !audience_ok {
        return Err(ClientAuthError::InvalidAssertion(
            "aud must name the token endpoint or the issuer",
        ));
    }

    let instant = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_i64)
            .and_then(|seconds| Utc.timestamp_opt(seconds, 0).single())
    };
    let expires_at = instant("exp").ok_or(ClientAuthError::InvalidAssertion("no exp claim"))?;
    if expires_at <= now {
        return Err(ClientAuthError::InvalidAssertion("expired"));
    }
    if instant("nbf").is_some_and(|not_before| not_before > now) {
        return Err(ClientAuthError::InvalidAssertion("not valid yet"));
    }

    let jti = string("jti")
        .filter(|jti| !jti.is_empty())
        .ok_or(ClientAuthError::InvalidAssertion("no jti claim"))?;
    Ok(AssertionClaims {
        jti: jti.to_owned(),
        expires_at,
    })
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

    fn claims(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000, 0)
            .single()
            .expect("valid instant")
    }

    #[test]
    fn an_assertion_for_another_audience_is_refused() {
        let claims = claims(serde_json::json!({
            "iss": "app", "sub": "app", "aud": "https://elsewhere.example/token",
            "exp": 1_800_000_060, "jti": "1",
        }));
        let result = check_claims(
            &claims,
            "app",
            &["https://auth.example.com/oauth2/token".to_owned()],
            now(),
        );
        assert!(matches!(result, Err(ClientAuthError::InvalidAssertion(_))));
    }

    #[test]
    fn an_assertion_whose_issuer_is_not_the_client_is_refused() {
        let claims = claims(serde_json::json!({
            "iss": "other", "sub": "app", "aud": ["https://example.com/"],
            "exp": 1_800_000_060, "jti": "1",
        }));
        let result = check_claims(&claims, "app", &["https://example.com/".to_owned()], now());
        assert!(matches!(result, Err(ClientAuthError::InvalidAssertion(_))));
    }

    #[test]
    fn an_assertion_without_jti_is_refused() {
        let claims = claims(serde_json::json!({
            "iss": "app", "sub": "app", "aud": "https://example.com",
            "exp": 1_800_000_060,
        }));
        let result = check_claims(&claims, "app", &["https://example.com/".to_owned()], now());
        assert!(matches!(result, Err(ClientAuthError::InvalidAssertion(_))));
    }

    #[test]
    fn a_well_formed_assertion_passes_the_claim_checks() {
        let claims = claims(serde_json::json!({
            "iss": "app", "sub": "app", "aud": "https://example.com",
            "exp": 1_800_000_060, "jti": "abc",
        }));
        let checked = check_claims(&claims, "app", &["https://example.com/".to_owned()], now())
            .expect("valid claims");
        assert_eq!(checked.jti, "abc");
    }
}
