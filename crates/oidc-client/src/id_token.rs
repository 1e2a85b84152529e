//! Tokens the provider signs — ID tokens, signed userinfo answers, logout tokens — verified
//! with the provider's keys, and the ID token's claims validated as OpenID Connect Core
//! §3.1.3.7 says.

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_config::sections::upstream_oauth2::JwsAlgorithm;
use portcullis_keys::{UnverifiedJws, VerifyError};
use portcullis_oauth::id_token::{HashAlg, half_hash};
use serde_json::{Map, Value};
use url::Url;

use crate::{jwks::JwksCache, token::alg_name};

/// How far the provider's clock may be from ours.
pub(crate) const LEEWAY: TimeDelta = TimeDelta::minutes(2);

/// Where the keys that verify the provider's signatures come from.
#[derive(Debug, Clone, Copy)]
pub struct ProviderKeys<'a> {
    /// The provider's key set, for asymmetric algorithms.
    pub jwks_uri: Option<&'a Url>,
    /// The client secret, for `HS256`, `HS384` and `HS512`.
    pub client_secret: Option<&'a str>,
    pub cache: &'a JwksCache,
}

/// Why a token is refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenValidationError {
    #[error("the token is not a signed JWT: {0}")]
    Malformed(VerifyError),
    #[error("the token is signed with `{found}`, not with `{expected}` as configured")]
    WrongAlgorithm { expected: String, found: String },
    #[error("unsigned tokens (`none`) are never accepted")]
    Unsigned,
    #[error("the provider's keys cannot be fetched: {0}")]
    Keys(String),
    #[error("the signature does not verify: {0}")]
    Signature(VerifyError),
    #[error("no key set: the provider has no `jwks_uri`")]
    NoJwksUri,
    #[error("no client secret to check an {0} signature with")]
    NoSecret(String),
    #[error("the claim `{0}` is missing or not of the right type")]
    Missing(&'static str),
    #[error("the claim `{claim}` is `{found}`, expected `{expected}`")]
    Mismatch {
        claim: &'static str,
        expected: String,
        found: String,
    },
    #[error("the token expired")]
    Expired,
    #[error("the token was issued in the future")]
    IssuedInTheFuture,
}

/// Verifies the signature of `token` with the algorithm the configuration expects, and
/// returns its claims. An unknown key triggers one refetch of the key set (the provider may
/// have rotated its keys).
///
/// # Errors
/// See [`TokenValidationError`].
pub async fn verify_signature(
    token: &str,
    expected_alg: JwsAlgorithm,
    keys: ProviderKeys<'_>,
) -> Result<Map<String, Value>, TokenValidationError> {
    let jws = UnverifiedJws::parse(token).map_err(TokenValidationError::Malformed)?;
    let expected = alg_name(expected_alg);
    let found = jws.alg().unwrap_or_default().to_owned();
    if found == "none" || expected_alg == JwsAlgorithm::None {
        return Err(TokenValidationError::Unsigned);
    }
    if found != expected {
        return Err(TokenValidationError::WrongAlgorithm { expected, found });
    }
    if matches!(
        expected_alg,
        JwsAlgorithm::Hs256 | JwsAlgorithm::Hs384 | JwsAlgorithm::Hs512
    ) {
        let secret = keys
            .client_secret
            .ok_or_else(|| TokenValidationError::NoSecret(found.clone()))?;
        jws.verify_with_secret(secret.as_bytes())
            .map_err(TokenValidationError::Signature)?;
        return Ok(jws.into_claims());
    }
    let uri = keys.jwks_uri.ok_or(TokenValidationError::NoJwksUri)?;
    let jwks = keys
        .cache
        .get(uri, false)
        .await
        .map_err(TokenValidationError::Keys)?;
    match jws.verify_with_jwks(&jwks) {
        Ok(()) => {}
        Err(VerifyError::NoMatchingKey) => {
            let jwks = keys
                .cache
                .get(uri, true)
                .await
                .map_err(TokenValidationError::Keys)?;
            jws.verify_with_jwks(&jwks)
                .map_err(TokenValidationError::Signature)?;
        }
        Err(error) => return Err(TokenValidationError::Signature(error)),
    }
    Ok(jws.into_claims())
}

/// What an ID token must say.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub alg: JwsAlgorithm,
    /// The `nonce` of the authorization request.
    pub nonce: Option<&'a str>,
    /// The access token and code of the same answer, for `at_hash` and `c_hash`.
    pub access_token: Option<&'a str>,
    pub code: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// Verifies an ID token and validates its claims; returns them.
///
/// # Errors
/// See [`TokenValidationError`].
pub async fn validate(
    token: &str,
    expected: Expected<'_>,
    keys: ProviderKeys<'_>,
) -> Result<Map<String, Value>, TokenValidationError> {
    let claims = verify_signature(token, expected.alg, keys).await?;
    validate_claims(&claims, expected)?;
    Ok(claims)
}

/// The checks of OpenID Connect Core §3.1.3.7 (and §3.1.3.8 for `at_hash`, §3.3.2.11 for
/// `c_hash`) on verified claims.
///
/// # Errors
/// See [`TokenValidationError`].
pub fn validate_claims(
    claims: &Map<String, Value>,
    expected: Expected<'_>,
) -> Result<(), TokenValidationError> {
    same("iss", text(claims, "iss")?, expected.issuer)?;
    text(claims, "sub")?;
    audience(claims, expected.client_id)?;
    if instant(claims, "exp")? + LEEWAY <= expected.now {
        return Err(TokenValidationError::Expired);
    }
    if instant(claims, "iat")? - LEEWAY > expected.now {
        return Err(TokenValidationError::IssuedInTheFuture);
    }
    if let Some(nonce) = expected.nonce {
        same("nonce", text(claims, "nonce")?, nonce)?;
    }
    let hash = HashAlg::for_jws_alg(&alg_name(expected.alg));
    for (claim, value) in [
        ("at_hash", expected.access_token),
        ("c_hash", expected.code),
    ] {
        if let (Some(found), Some(value), Some(hash)) =
            (claims.get(claim).and_then(Value::as_str), value, hash)
        {
            same(claim, found, &half_hash(hash, value))?;
        }
    }
    Ok(())
}

/// The string claim `name`.
pub(crate) fn text<'c>(
    claims: &'c Map<String, Value>,
    name: &'static str,
) -> Result<&'c str, TokenValidationError> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .ok_or(TokenValidationError::Missing(name))
}

/// The instant claim `name` (seconds since the epoch).
pub(crate) fn instant(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<DateTime<Utc>, TokenValidationError> {
    claims
        .get(name)
        .and_then(Value::as_i64)
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        .ok_or(TokenValidationError::Missing(name))
}

/// `found` is `wanted`, or the mismatch of `claim`.
pub(crate) fn same(
    claim: &'static str,
    found: &str,
    wanted: &str,
) -> Result<(), TokenValidationError> {
    if found == wanted {
        Ok(())
    } else {
        Err(TokenValidationError::Mismatch {
            claim,
            expected: wanted.to_owned(),
            found: found.to_owned(),
        })
    }
}

/// `aud` names `client_id` and, as §3.1.3.7 (4, 5) says, with several audiences the authorized
/// party is present, and when present it is us.
pub(crate) fn audience(
    claims: &Map<String, Value>,
    client_id: &str,
) -> Result<(), TokenValidationError> {
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
        _ => return Err(TokenValidationError::Missing("aud")),
    };
    if !audiences.contains(&client_id) {
        return Err(TokenValidationError::Mismatch {
            claim: "aud",
            expected: client_id.to_owned(),
            found: audiences.join(" "),
        });
    }
    match claims.get("azp").and_then(Value::as_str) {
        Some(azp) => same("azp", azp, client_id),
        None if audiences.len() > 1 => Err(TokenValidationError::Missing("azp")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).expect("test data")
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: "https://id.example.com",
            client_id: "portcullis",
            alg: JwsAlgorithm::Rs256,
            nonce: Some("n-0S6_WzA2Mj"),
            access_token: Some("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            code: None,
            now: now(),
        }
    }

    fn claims(changes: Value) -> Map<String, Value> {
        let mut claims = json!({
            "iss": "https://id.example.com",
            "sub": "alice",
            "aud": "portcullis",
            "exp": now().timestamp() + 300,
            "iat": now().timestamp() - 10,
            "nonce": "n-0S6_WzA2Mj",
            // OpenID Connect Core's example pair (§A.3): RS256 over this access token.
            "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
        });
        for (name, value) in changes.as_object().expect("test data") {
            if value.is_null() {
                claims.as_object_mut().expect("test data").remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        claims.as_object().expect("test data").clone()
    }

    #[test]
    fn a_valid_token_passes() {
        validate_claims(&claims(json!({})), expected()).expect("valid");
        validate_claims(
            &claims(json!({"aud": ["portcullis", "other"], "azp": "portcullis"})),
            expected(),
        )
        .expect("several audiences with us as authorized party");
    }

    #[test]
    fn each_wrong_claim_is_refused_by_name() {
        let cases = [
            (json!({"iss": "https://evil.example.com"}), "iss"),
            (json!({"aud": "someone-else"}), "aud"),
            (json!({"aud": ["portcullis", "other"]}), "azp"),
            (json!({"azp": "other"}), "azp"),
            (json!({"nonce": "replayed"}), "nonce"),
            (json!({"nonce": null}), "nonce"),
            (json!({"sub": null}), "sub"),
            (json!({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}), "at_hash"),
        ];
        for (changes, claim) in cases {
            let error = validate_claims(&claims(changes.clone()), expected())
                .expect_err(&format!("{changes} is refused"));
            assert!(error.to_string().contains(claim), "{changes}: {error}");
        }
        let expired = claims(json!({"exp": now().timestamp() - 3600}));
        assert!(matches!(
            validate_claims(&expired, expected()),
            Err(TokenValidationError::Expired)
        ));
        let future = claims(json!({"iat": now().timestamp() + 3600}));
        assert!(matches!(
            validate_claims(&future, expected()),
            Err(TokenValidationError::IssuedInTheFuture)
        ));
    }

    #[tokio::test]
    async fn unsigned_tokens_and_other_algorithms_are_refused_before_any_key_is_fetched() {
        use base64ct::{Base64UrlUnpadded, Encoding as _};
        let part = |value: Value| Base64UrlUnpadded::encode_string(value.to_string().as_bytes());
        let cache = JwksCache::default();
        let keys = ProviderKeys {
            jwks_uri: None,
            client_secret: Some("secret"),
            cache: &cache,
        };
        let unsigned = format!(
            "{}.{}.",
            part(json!({"alg": "none"})),
            part(json!({"sub": "a"}))
        );
        assert!(matches!(
            verify_signature(&unsigned, JwsAlgorithm::Rs256, keys).await,
            Err(TokenValidationError::Unsigned)
        ));
        let hs = format!(
            "{}.{}.c2ln",
            part(json!({"alg": "HS256"})),
            part(json!({"sub": "a"}))
        );
        assert!(matches!(
            verify_signature(&hs, JwsAlgorithm::Rs256, keys).await,
            Err(TokenValidationError::WrongAlgorithm { .. })
        ));
        assert!(matches!(
            verify_signature(&hs, JwsAlgorithm::Hs256, keys).await,
            Err(TokenValidationError::Signature(_))
        ));
    }
}
