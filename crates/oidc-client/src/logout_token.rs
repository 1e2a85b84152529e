//! Logout tokens of OpenID Connect Back-Channel Logout 1.0: what the provider posts to
//! `/upstream/backchannel-logout/{provider}` when someone signs out there, validated as its
//! §2.6 says.

use chrono::{DateTime, Utc};
use portcullis_config::sections::upstream_oauth2::JwsAlgorithm;
use serde_json::{Map, Value};

use crate::id_token::{
    LEEWAY, ProviderKeys, TokenValidationError, audience, instant, same, text, verify_signature,
};

/// The member of `events` that makes a JWT a logout token (§2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Who signed out: the provider's account (`sub`), its session there (`sid`), or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedOut {
    pub sub: Option<String>,
    pub sid: Option<String>,
}

/// What a logout token must say.
#[derive(Debug, Clone, Copy)]
pub struct ExpectedLogout<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The provider signs it as it signs ID tokens (`id_token_signed_response_alg`).
    pub alg: JwsAlgorithm,
    pub now: DateTime<Utc>,
}

/// Why a logout token is refused.
#[derive(Debug, thiserror::Error)]
pub enum LogoutTokenError {
    #[error(transparent)]
    Token(#[from] TokenValidationError),
    #[error("the token names neither `sub` nor `sid`")]
    NoSubject,
    #[error("the token's `events` has no `{BACKCHANNEL_LOGOUT_EVENT}` object")]
    NotALogout,
    #[error("a logout token must not carry a `nonce`")]
    Nonce,
}

/// Verifies a logout token's signature and claims; returns who signed out.
///
/// # Errors
/// See [`LogoutTokenError`].
pub async fn validate(
    token: &str,
    expected: ExpectedLogout<'_>,
    keys: ProviderKeys<'_>,
) -> Result<LoggedOut, LogoutTokenError> {
    let claims = verify_signature(token, expected.alg, keys).await?;
    validate_claims(&claims, expected)
}

/// The checks of §2.6 on verified claims: `iss`, `aud`, `iat`, `exp`, `jti`, the logout event,
/// `sub` and/or `sid`, and no `nonce`.
///
/// # Errors
/// See [`LogoutTokenError`].
pub fn validate_claims(
    claims: &Map<String, Value>,
    expected: ExpectedLogout<'_>,
) -> Result<LoggedOut, LogoutTokenError> {
    same("iss", text(claims, "iss")?, expected.issuer)?;
    audience(claims, expected.client_id)?;
    if instant(claims, "iat")? - LEEWAY > expected.now {
        return Err(TokenValidationError::IssuedInTheFuture.into());
    }
    if instant(claims, "exp")? + LEEWAY <= expected.now {
        return Err(TokenValidationError::Expired.into());
    }
    text(claims, "jti")?;
    let is_logout = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|events| events.get(BACKCHANNEL_LOGOUT_EVENT))
        .is_some_and(Value::is_object);
    if !is_logout {
        return Err(LogoutTokenError::NotALogout);
    }
    if claims.contains_key("nonce") {
        return Err(LogoutTokenError::Nonce);
    }
    let optional = |name: &'static str| match claims.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(TokenValidationError::Missing(name)),
    };
    let logged_out = LoggedOut {
        sub: optional("sub")?,
        sid: optional("sid")?,
    };
    if logged_out.sub.is_none() && logged_out.sid.is_none() {
        return Err(LogoutTokenError::NoSubject);
    }
    Ok(logged_out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).expect("test data")
    }

    fn expected() -> ExpectedLogout<'static> {
        ExpectedLogout {
            issuer: "https://id.example.com",
            client_id: "portcullis",
            alg: JwsAlgorithm::Rs256,
            now: now(),
        }
    }

    /// The example of §2.4, with `changes` applied (`null` removes a claim).
    fn claims(changes: Value) -> Map<String, Value> {
        let mut claims = json!({
            "iss": "https://id.example.com",
            "sub": "248289761001",
            "aud": "portcullis",
            "iat": now().timestamp() - 5,
            "exp": now().timestamp() + 120,
            "jti": "bWJq",
            "sid": "08a5019c-17e1-4977-8f42-65a12843ea02",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
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
    fn the_specification_example_names_the_account_and_its_session() {
        assert_eq!(
            validate_claims(&claims(json!({})), expected()).expect("valid"),
            LoggedOut {
                sub: Some("248289761001".to_owned()),
                sid: Some("08a5019c-17e1-4977-8f42-65a12843ea02".to_owned()),
            }
        );
        let sid_only = validate_claims(&claims(json!({"sub": null})), expected()).expect("valid");
        assert_eq!(sid_only.sub, None);
        let sub_only = validate_claims(&claims(json!({"sid": null})), expected()).expect("valid");
        assert_eq!(sub_only.sid, None);
    }

    #[test]
    fn every_rule_of_section_2_6_refuses() {
        let refused = |changes: Value| validate_claims(&claims(changes), expected()).is_err();
        assert!(
            refused(json!({"iss": "https://evil.example.com"})),
            "issuer"
        );
        assert!(refused(json!({"aud": "someone-else"})), "audience");
        assert!(
            refused(json!({"aud": ["portcullis", "other"]})),
            "several audiences, no azp"
        );
        assert!(refused(json!({"iat": null})), "no iat");
        assert!(
            refused(json!({"iat": now().timestamp() + 3600})),
            "issued later"
        );
        assert!(refused(json!({"exp": now().timestamp() - 3600})), "expired");
        assert!(refused(json!({"exp": null})), "no exp");
        assert!(refused(json!({"jti": null})), "no jti");
        assert!(refused(json!({"events": null})), "no events");
        assert!(
            refused(json!({"events": {"http://example.com/other": {}}})),
            "another event"
        );
        assert!(
            refused(json!({"events": {BACKCHANNEL_LOGOUT_EVENT: "yes"}})),
            "the event is not an object"
        );
        assert!(refused(json!({"nonce": "n"})), "a nonce");
        assert!(refused(json!({"sub": null, "sid": null})), "no one");
        assert!(refused(json!({"sub": 42})), "a sub that is not a string");
    }
}
