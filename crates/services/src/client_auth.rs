//! Client authentication at the back-channel endpoints (token, introspection, revocation,
//! device authorization).
//!
//! A client proves who it is with the method it registered (`token_endpoint_auth_method`):
//! - `none`: a public client only names itself with `client_id`;
//! - `client_secret_basic` / `client_secret_post`: the secret (compared in constant time with
//!   the one stored encrypted);
//! - `client_secret_jwt` / `private_key_jwt`: a JWT assertion (RFC 7523 §2.2, OpenID Connect
//!   Core §9) signed with the secret (HMAC) or with a key of the client's registered `jwks` or
//!   `jwks_uri`, whose `jti` is accepted once.
//!
//! The HTTP layer reads the [`Credentials`] from the request and renders the refusal.

use chrono::{DateTime, TimeZone as _, Utc};
use portcullis_keys::{Encrypter, UnverifiedJws, VerifyError};
use portcullis_model::OAuthClient;
use portcullis_oauth::registration::ClientAuthMethod;
use portcullis_storage::{Repository, StorageError};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq as _;
use url::Url;
use zeroize::Zeroizing;

use crate::jwks_cache::JwksCache;

/// RFC 7523 §2.2: the only `client_assertion_type` there is.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What a request presented to say which client sent it.
#[derive(Debug)]
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
    /// Whether the secret came in `Authorization: Basic`.
    #[must_use]
    pub fn uses_basic(&self) -> bool {
        matches!(self, Self::ClientSecretBasic { .. })
    }
}

/// What authenticating clients reads, for one request.
pub struct ClientAuthenticator<'a> {
    /// Decrypts the stored client secrets.
    pub encrypter: &'a Encrypter,
    /// The clients' keys published at their `jwks_uri`.
    pub jwks_cache: &'a JwksCache,
    /// Our token endpoint, an audience assertions may name.
    pub token_endpoint: &'a Url,
    /// Our issuer, an audience assertions may name.
    pub issuer: &'a Url,
    /// The instant of the request.
    pub now: DateTime<Utc>,
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
        registered: &'static str,
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
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn internal(error: StorageError) -> ClientAuthError {
    ClientAuthError::from(error)
}

impl ClientAuthenticator<'_> {
    /// The client the credentials prove, checked with the method it registered.
    ///
    /// `endpoint` is the URL the request was sent to: with the token endpoint and the issuer, it
    /// is an audience assertions may name. The `jti` of an accepted assertion is recorded in
    /// `repo`, which the caller commits even when the rest of its request fails.
    ///
    /// # Errors
    /// A [`ClientAuthError`] for any mismatch, [`ClientAuthError::Internal`] if storage fails.
    pub async fn authenticate(
        &self,
        repo: &mut dyn Repository,
        credentials: &Credentials,
        endpoint: &Url,
    ) -> Result<OAuthClient, ClientAuthError> {
        match credentials {
            Credentials::None { client_id } => {
                let client = find_client(repo, client_id).await?;
                expect_method(&client, ClientAuthMethod::None)?;
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
                    ClientAuthMethod::ClientSecretBasic
                } else {
                    ClientAuthMethod::ClientSecretPost
                };
                expect_method(&client, method)?;
                let secret = self.client_secret_of(&client)?;
                if bool::from(secret.as_slice().ct_eq(client_secret.as_bytes())) {
                    Ok(client)
                } else {
                    Err(ClientAuthError::WrongSecret)
                }
            }
            Credentials::ClientAssertion {
                client_id,
                assertion,
            } => {
                self.authenticate_assertion(repo, client_id.as_deref(), assertion, endpoint)
                    .await
            }
        }
    }
}

async fn find_client(
    repo: &mut dyn Repository,
    client_id: &str,
) -> Result<OAuthClient, ClientAuthError> {
    repo.oauth_clients()
        .find_by_client_id(client_id)
        .await
        .map_err(internal)?
        .ok_or(ClientAuthError::UnknownClient)
}

fn expect_method(client: &OAuthClient, used: ClientAuthMethod) -> Result<(), ClientAuthError> {
    if client.client_auth_method == used {
        Ok(())
    } else {
        Err(ClientAuthError::WrongMethod {
            registered: client.client_auth_method.as_str(),
            used: used.as_str(),
        })
    }
}

impl ClientAuthenticator<'_> {
    /// The client's secret in clear. A client registered with a secret method but without a
    /// stored secret cannot authenticate; a secret we cannot decrypt is our fault.
    fn client_secret_of(
        &self,
        client: &OAuthClient,
    ) -> Result<Zeroizing<Vec<u8>>, ClientAuthError> {
        let encrypted = client
            .encrypted_client_secret
            .as_deref()
            .ok_or(ClientAuthError::WrongSecret)?;
        self.encrypter
            .decrypt(encrypted)
            .map(Zeroizing::new)
            .map_err(|error| {
                ClientAuthError::Internal(format!(
                    "cannot decrypt the secret of client {}: {error}",
                    client.client_id
                ))
            })
    }

    async fn authenticate_assertion(
        &self,
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
            expect_method(&client, ClientAuthMethod::ClientSecretJwt)?;
            let secret = self.client_secret_of(&client)?;
            jws.verify_with_secret(&secret)
                .map_err(|error| match error {
                    VerifyError::UnsupportedAlgorithm(_) => {
                        ClientAuthError::InvalidAssertion("unsupported algorithm")
                    }
                    _ => ClientAuthError::InvalidAssertion("bad signature"),
                })?;
        } else {
            expect_method(&client, ClientAuthMethod::PrivateKeyJwt)?;
            match (&client.jwks, &client.jwks_uri) {
                (Some(jwks), _) => {
                    jws.verify_with_jwks(&jwks.to_string())
                        .map_err(|_| ClientAuthError::InvalidAssertion("bad signature"))?;
                }
                (None, Some(uri)) => {
                    let cache = self.jwks_cache;
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
            self.token_endpoint.to_string(),
            self.issuer.to_string(),
            endpoint.to_string(),
        ];
        let now = self.now;
        let claims = check_claims(jws.claims(), &client.client_id, &audiences, now)?;
        let first_use = repo
            .oauth_client_assertions()
            .record_jti(&client, &claims.jti, claims.expires_at, now)
            .await
            .map_err(internal)?;
        if !first_use {
            // RFC 7523 §3 item 7: a server may refuse a JWT it has seen, to stop replays.
            return Err(ClientAuthError::ReplayedAssertion);
        }
        Ok(client)
    }
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
