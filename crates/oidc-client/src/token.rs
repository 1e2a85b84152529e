//! The authorization code exchanged at the provider's token endpoint (RFC 6749 §4.1.3), with
//! the client authentication the provider's configuration names.

use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use chrono::{DateTime, TimeDelta, Utc};
use hmac::Hmac;
use portcullis_config::sections::upstream_oauth2::{JwsAlgorithm, ProviderConfig, TokenAuthMethod};
use portcullis_keys::{Keystore, PrivateKey};
use rand::{
    RngCore,
    distributions::{Alphanumeric, DistString as _},
};
use serde_json::{Value, json};
use sha2::{Sha256, Sha384, Sha512};
use url::Url;

use crate::{
    fetch::{self, FetchError},
    metadata::Metadata,
};

/// How long a client assertion we sign is valid.
const ASSERTION_LIFETIME: TimeDelta = TimeDelta::minutes(5);

/// What authenticates us to the provider, beyond the configuration.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    /// The client secret, decrypted (for the `client_secret_*` methods).
    pub client_secret: Option<&'a str>,
    /// Our own keys (for `private_key_jwt`).
    pub keystore: &'a Keystore,
    /// Sign in with Apple's key (its PEM, for `sign_in_with_apple`).
    pub apple_private_key: Option<&'a str>,
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").finish_non_exhaustive()
    }
}

/// The provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
    pub scope: Option<String>,
}

/// Why the exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("the token endpoint's answer has no `{0}`")]
    Missing(&'static str),
    #[error("`{0}` needs a client secret, and none is configured")]
    NoSecret(&'static str),
    #[error("cannot sign the client assertion: {0}")]
    Sign(String),
}

/// Exchanges `code` for tokens.
///
/// # Errors
/// See [`TokenError`].
#[allow(clippy::too_many_arguments)]
pub async fn exchange_code(
    provider: &ProviderConfig,
    metadata: &Metadata,
    credentials: Credentials<'_>,
    code: &str,
    redirect_uri: &Url,
    code_verifier: Option<&str>,
    now: DateTime<Utc>,
    rng: &mut (dyn RngCore + Send),
) -> Result<TokenResponse, TokenError> {
    let mut form = vec![
        ("grant_type".to_owned(), "authorization_code".to_owned()),
        ("code".to_owned(), code.to_owned()),
        ("redirect_uri".to_owned(), redirect_uri.to_string()),
    ];
    if let Some(verifier) = code_verifier {
        form.push(("code_verifier".to_owned(), verifier.to_owned()));
    }
    let client = fetch::client();
    let mut request = client
        .post(metadata.token_endpoint.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    let client_id = provider.client_id.clone();
    match provider.token_endpoint_auth_method {
        TokenAuthMethod::None => form.push(("client_id".to_owned(), client_id)),
        TokenAuthMethod::ClientSecretBasic => {
            let secret = credentials
                .client_secret
                .ok_or(TokenError::NoSecret("client_secret_basic"))?;
            request = request.header(reqwest::header::AUTHORIZATION, basic(&client_id, secret));
        }
        TokenAuthMethod::ClientSecretPost => {
            let secret = credentials
                .client_secret
                .ok_or(TokenError::NoSecret("client_secret_post"))?;
            form.push(("client_id".to_owned(), client_id));
            form.push(("client_secret".to_owned(), secret.to_owned()));
        }
        TokenAuthMethod::ClientSecretJwt | TokenAuthMethod::PrivateKeyJwt => {
            let claims = json!({
                "iss": client_id,
                "sub": client_id,
                "aud": metadata.token_endpoint.as_str(),
                "jti": Alphanumeric.sample_string(rng, 32),
                "iat": now.timestamp(),
                "exp": (now + ASSERTION_LIFETIME).timestamp(),
            });
            let assertion =
                if provider.token_endpoint_auth_method == TokenAuthMethod::ClientSecretJwt {
                    let secret = credentials
                        .client_secret
                        .ok_or(TokenError::NoSecret("client_secret_jwt"))?;
                    let alg = provider
                        .token_endpoint_auth_signing_alg
                        .unwrap_or(JwsAlgorithm::Hs256);
                    sign_with_secret(alg, secret.as_bytes(), &claims)?
                } else {
                    let alg = alg_name(
                        provider
                            .token_endpoint_auth_signing_alg
                            .unwrap_or(JwsAlgorithm::Rs256),
                    );
                    let alg = alg.parse().map_err(|_| {
                        TokenError::Sign(format!("{alg} is not an algorithm our keys sign with"))
                    })?;
                    credentials
                        .keystore
                        .sign_jwt(alg, &claims)
                        .map_err(|error| TokenError::Sign(error.to_string()))?
                };
            form.push(("client_id".to_owned(), client_id));
            form.push((
                "client_assertion_type".to_owned(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ));
            form.push(("client_assertion".to_owned(), assertion));
        }
        TokenAuthMethod::SignInWithApple => {
            let secret = apple_client_secret(provider, credentials, now)?;
            form.push(("client_id".to_owned(), client_id));
            form.push(("client_secret".to_owned(), secret));
        }
    }
    let answer = fetch::json_object(request.form(&form)).await?;
    let text = |name: &str| answer.get(name).and_then(Value::as_str).map(str::to_owned);
    Ok(TokenResponse {
        access_token: text("access_token").ok_or(TokenError::Missing("access_token"))?,
        token_type: text("token_type").ok_or(TokenError::Missing("token_type"))?,
        id_token: text("id_token"),
        refresh_token: text("refresh_token"),
        expires_in: answer.get("expires_in").and_then(Value::as_i64),
        scope: text("scope"),
    })
}

/// HTTP Basic credentials of RFC 6749 §2.3.1: each part form-urlencoded first.
fn basic(client_id: &str, secret: &str) -> String {
    let encode =
        |part: &str| url::form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        Base64::encode_string(format!("{}:{}", encode(client_id), encode(secret)).as_bytes())
    )
}

/// The JOSE name of an algorithm of the configuration.
pub fn alg_name(alg: JwsAlgorithm) -> String {
    serde_json::to_value(alg)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A JWT signed with a shared secret (`HS256`, `HS384`, `HS512`).
///
/// # Errors
/// Another algorithm, or a key the MAC refuses.
pub fn sign_with_secret(
    alg: JwsAlgorithm,
    secret: &[u8],
    claims: &Value,
) -> Result<String, TokenError> {
    let name = alg_name(alg);
    let header = json!({ "alg": name, "typ": "JWT" });
    let mut token = Base64UrlUnpadded::encode_string(header.to_string().as_bytes());
    token.push('.');
    token.push_str(&Base64UrlUnpadded::encode_string(
        claims.to_string().as_bytes(),
    ));
    let signature = match alg {
        JwsAlgorithm::Hs256 => mac::<Hmac<Sha256>>(secret, &token),
        JwsAlgorithm::Hs384 => mac::<Hmac<Sha384>>(secret, &token),
        JwsAlgorithm::Hs512 => mac::<Hmac<Sha512>>(secret, &token),
        _ => {
            return Err(TokenError::Sign(format!(
                "client_secret_jwt signs with HS256, HS384 or HS512, not {name}"
            )));
        }
    }?;
    token.push('.');
    token.push_str(&Base64UrlUnpadded::encode_string(&signature));
    Ok(token)
}

fn mac<M: hmac::Mac + hmac::digest::KeyInit>(
    secret: &[u8],
    input: &str,
) -> Result<Vec<u8>, TokenError> {
    let mut mac = <M as hmac::Mac>::new_from_slice(secret)
        .map_err(|_| TokenError::Sign("the client secret cannot be an HMAC key".to_owned()))?;
    mac.update(input.as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

/// Sign in with Apple's client secret: a JWT signed with the team's key (ES256), naming the
/// team as issuer and the service as subject, for Apple's audience.
fn apple_client_secret(
    provider: &ProviderConfig,
    credentials: Credentials<'_>,
    now: DateTime<Utc>,
) -> Result<String, TokenError> {
    let apple = provider
        .sign_in_with_apple
        .as_ref()
        .ok_or(TokenError::Sign(
            "`sign_in_with_apple` is not configured".to_owned(),
        ))?;
    let pem = credentials.apple_private_key.ok_or(TokenError::Sign(
        "Sign in with Apple's private key is missing".to_owned(),
    ))?;
    let key = PrivateKey::load(pem.as_bytes(), None)
        .map_err(|error| TokenError::Sign(format!("Sign in with Apple's private key: {error}")))?;
    let keystore = Keystore::new(vec![(Some(apple.key_id.clone()), key)])
        .map_err(|error| TokenError::Sign(error.to_string()))?;
    let claims = json!({
        "iss": apple.team_id,
        "sub": provider.client_id,
        "aud": "https://appleid.apple.com",
        "iat": now.timestamp(),
        "exp": (now + ASSERTION_LIFETIME).timestamp(),
    });
    keystore
        .sign_jwt(portcullis_keys::JwsAlgorithm::Es256, &claims)
        .map_err(|error| TokenError::Sign(error.to_string()))
}

#[cfg(test)]
mod tests {
    use portcullis_keys::UnverifiedJws;

    use super::*;

    #[test]
    fn basic_credentials_are_form_encoded_before_base64() {
        // RFC 6749 §2.3.1: "client id:secret" with each part application/x-www-form-urlencoded.
        assert_eq!(
            basic("a b", "p:w"),
            format!("Basic {}", Base64::encode_string(b"a+b:p%3Aw"))
        );
    }

    #[test]
    fn a_secret_signed_assertion_verifies_with_the_secret() {
        let claims = json!({"iss": "c", "sub": "c"});
        let token =
            sign_with_secret(JwsAlgorithm::Hs256, b"shared secret", &claims).expect("signed");
        let jws = UnverifiedJws::parse(&token).expect("a JWS");
        assert_eq!(jws.alg(), Some("HS256"));
        jws.verify_with_secret(b"shared secret").expect("verifies");
        assert!(jws.verify_with_secret(b"another").is_err());
        assert!(sign_with_secret(JwsAlgorithm::Rs256, b"s", &claims).is_err());
    }

    #[test]
    fn the_sign_in_with_apple_secret_is_an_es256_jwt_of_the_team_for_apple() {
        let pem = include_str!("../../config/tests/fixtures/keys/ec-p256.sec1.pem");
        let provider: ProviderConfig = serde_json::from_value(json!({
            "id": "01JAPPLE0000000000000000AP",
            "issuer": "https://appleid.apple.com",
            "client_id": "org.example.matrix",
            "token_endpoint_auth_method": "sign_in_with_apple",
            "sign_in_with_apple": { "team_id": "TEAM123456", "key_id": "KEY1234567" },
        }))
        .expect("a provider");
        let key = PrivateKey::load(pem.as_bytes(), None).expect("the EC key");
        let keystore = Keystore::new(vec![(Some("ours".to_owned()), key)]).expect("a keystore");
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("an instant");
        let credentials = Credentials {
            client_secret: None,
            keystore: &keystore,
            apple_private_key: Some(pem),
        };
        let secret = apple_client_secret(&provider, credentials, now).expect("signed");

        let jws = UnverifiedJws::parse(&secret).expect("a JWS");
        assert_eq!(jws.alg(), Some("ES256"));
        let jwks = serde_json::to_string(keystore.public_jwks()).expect("JSON");
        // Apple finds the key by the configured key ID; the signature is the team key's.
        assert_eq!(
            secret
                .split('.')
                .next()
                .and_then(|header| Base64UrlUnpadded::decode_vec(header).ok())
                .and_then(|header| serde_json::from_slice::<Value>(&header).ok())
                .and_then(|header| header.get("kid").and_then(Value::as_str).map(str::to_owned))
                .as_deref(),
            Some("KEY1234567")
        );
        let claims = jws.claims().clone();
        assert_eq!(claims["iss"], "TEAM123456");
        assert_eq!(claims["sub"], "org.example.matrix");
        assert_eq!(claims["aud"], "https://appleid.apple.com");
        assert_eq!(claims["iat"], now.timestamp());
        assert!(claims["exp"].as_i64().expect("exp") > now.timestamp());
        let renamed = jwks.replace("\"ours\"", "\"KEY1234567\"");
        jws.verify_with_jwks(&renamed)
            .expect("verifies with the team key");

        // Without the key, a clear error rather than an unsigned request.
        let missing = Credentials {
            client_secret: None,
            keystore: &keystore,
            apple_private_key: None,
        };
        assert!(apple_client_secret(&provider, missing, now).is_err());
    }
}
