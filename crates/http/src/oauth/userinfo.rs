//! `GET` and `POST /oauth2/userinfo` (OpenID Connect Core §5.3): who the user behind an access
//! token is, for a token granted `openid`.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use portcullis_keys::JwsAlgorithm;
use portcullis_oauth::{
    ClientError, ErrorCode,
    scope::{EMAIL, OPENID, Scope},
    token::{TokenKind, TokenType},
};
use portcullis_services::tokens::id_token;
use portcullis_storage::StorageError;
use serde_json::{Value, json};

use super::{
    introspection::bearer,
    reply::{self, Internal},
};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth2/userinfo", get(userinfo).post(userinfo))
}

async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match claims(&state, &headers).await {
        Ok(Userinfo::Json(body)) => reply::no_store_json(StatusCode::OK, &body),
        Ok(Userinfo::Jwt(jwt)) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/jwt"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            jwt,
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// The answer: plain JSON, or a JWT for a client that registered
/// `userinfo_signed_response_alg` (OpenID Connect Core §5.3.2).
enum Userinfo {
    Json(Value),
    Jwt(String),
}

async fn claims(state: &AppState, headers: &HeaderMap) -> Result<Userinfo, UserinfoError> {
    let token = bearer(headers).ok_or(UserinfoError::InvalidToken)?;
    if !matches!(
        TokenKind::detect(token),
        Ok(TokenKind::Ours(TokenType::AccessToken))
    ) {
        return Err(UserinfoError::InvalidToken);
    }
    let now = state.now();
    let mut repo = state.database().read_transaction().await?;
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
    let scope: Scope = active.session.scope.parse().map_err(|error| {
        Internal::from(format!(
            "session {} has an invalid scope: {error}",
            active.session.id
        ))
    })?;
    if !scope.contains(OPENID) {
        return Err(UserinfoError::InsufficientScope);
    }
    let client = repo
        .oauth_clients()
        .find(active.session.client_id)
        .await?
        .ok_or_else(|| Internal::from("a session's client does not exist"))?;
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
    object.insert(
        "iss".to_owned(),
        Value::from(state.urls().issuer().as_str()),
    );
    object.insert("aud".to_owned(), Value::from(client.client_id.as_str()));
    let alg = id_token::client_algorithm(Some(registered), JwsAlgorithm::Rs256)
        .map_err(|error| Internal::from(error.to_string()))?;
    let jwt = state
        .keystore()
        .sign_jwt(alg, &body)
        .map_err(Internal::from)?;
    Ok(Userinfo::Jwt(jwt))
}

/// Why userinfo is refused, in RFC 6750 §3 terms.
#[derive(Debug)]
pub enum UserinfoError {
    /// No bearer token, or one that is unknown, expired, revoked, of a finished session or of
    /// a user who is locked or gone.
    InvalidToken,
    /// The token was not granted `openid`.
    InsufficientScope,
    /// Our fault.
    Internal(Internal),
}

impl From<StorageError> for UserinfoError {
    fn from(error: StorageError) -> Self {
        Self::Internal(error.into())
    }
}

impl From<Internal> for UserinfoError {
    fn from(error: Internal) -> Self {
        Self::Internal(error)
    }
}

impl IntoResponse for UserinfoError {
    fn into_response(self) -> Response {
        let (code, description, challenge) = match self {
            Self::Internal(internal) => return internal.response("userinfo"),
            Self::InvalidToken => (
                ErrorCode::InvalidToken,
                "the access token is missing, invalid or expired",
                "Bearer error=\"invalid_token\"",
            ),
            Self::InsufficientScope => (
                ErrorCode::InsufficientScope,
                "the access token was not granted the openid scope",
                "Bearer error=\"insufficient_scope\", scope=\"openid\"",
            ),
        };
        let mut response = reply::error(&ClientError::new(code).with_description(description));
        // RFC 6750 §3: the challenge says what went wrong.
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
        response
    }
}
