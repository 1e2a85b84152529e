//! The claims about the user an access token stands for (OpenID Connect Core §5.3): `sub`,
//! `username`, and `email` with the `email` scope; signed when the client registered
//! `userinfo_signed_response_alg`.

use chrono::{DateTime, Utc};
use portcullis_keys::{JwsAlgorithm, Keystore};
use portcullis_oauth::{
    scope::{EMAIL, OPENID},
    token::{TokenKind, TokenType},
};
use portcullis_storage::RepositoryFactory;
use serde_json::{Value, json};
use url::Url;

use super::id_token;

/// The answer: plain JSON, or a JWT for a client that registered
/// `userinfo_signed_response_alg` (OpenID Connect Core §5.3.2).
#[derive(Debug)]
pub enum Userinfo {
    /// The claims.
    Json(Value),
    /// The claims, signed.
    Jwt(String),
}

/// Why there are no claims to give, in RFC 6750 §3 terms.
#[derive(Debug)]
pub enum UserinfoError {
    /// No usable access token of a user.
    InvalidToken,
    /// The token was not granted `openid`.
    InsufficientScope,
    /// Storage failed (or is out of reach for a moment).
    Storage(portcullis_storage::StorageError),
    /// Our fault.
    Internal(String),
}

impl From<portcullis_storage::StorageError> for UserinfoError {
    fn from(error: portcullis_storage::StorageError) -> Self {
        Self::Storage(error)
    }
}

/// The claims for the access token `token`, checked at `now`.
///
/// # Errors
/// A [`UserinfoError`] when the token gives no claims.
pub async fn userinfo(
    repositories: &dyn RepositoryFactory,
    keystore: &Keystore,
    issuer: &Url,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Userinfo, UserinfoError> {
    if !matches!(
        TokenKind::detect(token),
        Ok(TokenKind::Ours(TokenType::AccessToken))
    ) {
        return Err(UserinfoError::InvalidToken);
    }
    let mut repo = repositories.read_transaction().await?;
    let active = repo
        .oauth_access_tokens()
        .find_active_by_token(token, now)
        .await?
        .ok_or(UserinfoError::InvalidToken)?;
    // A client's own token (client credentials) has no user to describe.
    let user = active
        .user
        .filter(portcullis_model::User::is_active)
        .ok_or(UserinfoError::InvalidToken)?;
    let scope = &active.session.scope;
    if !scope.contains(OPENID) {
        return Err(UserinfoError::InsufficientScope);
    }
    let client = repo
        .oauth_clients()
        .find(active.session.client_id)
        .await?
        .ok_or_else(|| UserinfoError::Internal("a session's client does not exist".to_owned()))?;
    let email = if scope.contains(EMAIL) {
        id_token::primary_email(&mut *repo, &user).await?
    } else {
        None
    };
    repo.rollback().await?;

    let mut body = json!({
        "sub": user.id.to_string(),
        "username": user.username,
    });
    let object = body
        .as_object_mut()
        .expect("json! of an object literal is an object");
    if let Some(email) = &email {
        id_token::insert_email(object, email);
    }
    let Some(registered) = client.userinfo_signed_response_alg.as_deref() else {
        return Ok(Userinfo::Json(body));
    };
    // OpenID Connect Core §5.3.2: a signed response "SHOULD contain the Claims iss and aud".
    object.insert("iss".to_owned(), Value::from(issuer.as_str()));
    object.insert("aud".to_owned(), Value::from(client.client_id.as_str()));
    let alg = id_token::client_algorithm(Some(registered), JwsAlgorithm::Rs256)
        .map_err(|error| UserinfoError::Internal(error.to_string()))?;
    let jwt = keystore
        .sign_jwt(alg, &body)
        .map_err(|error| UserinfoError::Internal(error.to_string()))?;
    Ok(Userinfo::Jwt(jwt))
}
