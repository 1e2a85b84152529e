//! ID tokens (OpenID Connect Core §2) and the user claims shared with userinfo.

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_keys::JwsAlgorithm;
use portcullis_model::{OAuthClient, User};
use portcullis_oauth::id_token::{HashAlg, half_hash};
use portcullis_storage::{Repository, StorageError};
use serde_json::{Value, json};

use portcullis_keys::{Keystore, SignError};
use url::Url;

/// Why an ID token (or a signed userinfo answer) cannot be signed.
#[derive(Debug, thiserror::Error)]
pub enum IdTokenError {
    /// The client registered an algorithm we cannot use.
    #[error("the client's signing algorithm is unusable: {0}")]
    Algorithm(String),
    /// The keys cannot sign.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// How long an ID token is valid: it proves a sign-in that already happened, so an hour is
/// plenty (the reference implementation uses the same).
const ID_TOKEN_TTL: TimeDelta = TimeDelta::hours(1);

/// What an ID token says beyond the fixed claims.
pub struct IdTokenClaims<'a> {
    /// The client it is for (`aud`); its `id_token_signed_response_alg` picks the algorithm.
    pub client: &'a OAuthClient,
    /// The user it is about (`sub`).
    pub user: &'a User,
    /// When the user last proved their identity (`auth_time`).
    pub auth_time: DateTime<Utc>,
    /// The `nonce` of the authorization request.
    pub nonce: Option<&'a str>,
    /// The access token issued with it, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// The code it was exchanged for, for `c_hash`.
    pub code: Option<&'a str>,
    /// The user's address, when the `email` scope was granted and there is one.
    pub email: Option<&'a str>,
}

/// The algorithm of the client's signed responses: its registered `alg`, or `default`.
///
/// # Errors
/// When the registered algorithm is not one we can sign with.
pub fn client_algorithm(
    registered: Option<&str>,
    default: JwsAlgorithm,
) -> Result<JwsAlgorithm, IdTokenError> {
    registered.map_or(Ok(default), |name| {
        name.parse()
            .map_err(|error| IdTokenError::Algorithm(format!("{error}")))
    })
}

/// Signs the ID token at `now`, with the client's `id_token_signed_response_alg` or RS256.
///
/// # Errors
/// When no key can sign with that algorithm.
pub fn sign(
    keystore: &Keystore,
    issuer: &Url,
    claims: &IdTokenClaims<'_>,
    now: DateTime<Utc>,
) -> Result<String, IdTokenError> {
    let alg = client_algorithm(
        claims.client.id_token_signed_response_alg.as_deref(),
        JwsAlgorithm::Rs256,
    )?;
    let hash = HashAlg::for_jws_alg(alg.as_str())
        .ok_or_else(|| IdTokenError::Algorithm(format!("no hash function is known for {alg}")))?;

    let mut body = json!({
        "iss": issuer.as_str(),
        "sub": claims.user.id.to_string(),
        "aud": claims.client.client_id,
        "iat": now.timestamp(),
        "exp": (now + ID_TOKEN_TTL).timestamp(),
        "auth_time": claims.auth_time.timestamp(),
    });
    let object = body
        .as_object_mut()
        .expect("json! of an object literal is an object");
    if let Some(nonce) = claims.nonce {
        object.insert("nonce".to_owned(), Value::from(nonce));
    }
    // OpenID Connect Core §3.3.2.11 and §3.1.3.6: the left half of the hash, with the hash
    // function of the signature algorithm.
    if let Some(access_token) = claims.access_token {
        object.insert(
            "at_hash".to_owned(),
            Value::from(half_hash(hash, access_token)),
        );
    }
    if let Some(code) = claims.code {
        object.insert("c_hash".to_owned(), Value::from(half_hash(hash, code)));
    }
    if let Some(email) = claims.email {
        insert_email(object, email);
    }
    Ok(keystore.sign_jwt(alg, &body)?)
}

/// `email` and `email_verified`. An address only becomes the user's once they proved they
/// receive mail there, so every stored address is verified.
pub fn insert_email(object: &mut serde_json::Map<String, Value>, email: &str) {
    object.insert("email".to_owned(), Value::from(email));
    object.insert("email_verified".to_owned(), Value::Bool(true));
}

/// The address to put in claims: the user's oldest one.
///
/// # Errors
/// When storage fails.
pub async fn primary_email(
    repo: &mut dyn Repository,
    user: &User,
) -> Result<Option<String>, StorageError> {
    Ok(repo
        .user_emails()
        .list_for_user(user)
        .await?
        .into_iter()
        .next()
        .map(|email| email.email))
}
