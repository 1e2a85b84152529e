//! `POST /oauth2/token`: the token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6).
//!
//! The handler authenticates the client, parses the request and hands it to the module of its
//! grant. Every answer is JSON with `Cache-Control: no-store` and `Pragma: no-cache`
//! (RFC 6749 §5.1), and every error an RFC 6749 §5.2 body.

mod authorization_code;
mod client_credentials;
mod device_code;
mod refresh_token;

use std::net::IpAddr;

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_homeserver::HomeserverError;
use portcullis_model::{
    AccessToken, BrowserSession, OAuthClient, OAuthSession, RefreshToken, User,
};
use portcullis_oauth::{
    ClientError, ErrorCode, ToClientError as _,
    requests::{AccessTokenResponse, AccessTokenType, TokenParams, TokenRequest},
    scope::{EMAIL, OPENID, Scope},
    token::TokenType,
};
use portcullis_storage::{Repository, StorageError};
use ulid::Ulid;

use super::{
    client_auth::{self, ClientAuthFailure, Credentials},
    id_token,
    reply::{self, Internal, OAuthForm},
};
use crate::{AppState, client_ip::ClientIp};

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth2/token", post(post_token))
}

async fn post_token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm<TokenParams>,
) -> Response {
    match token(&state, ip, &headers, &params).await {
        Ok(response) => reply::no_store_json(StatusCode::OK, &response),
        Err(error) => error.into_response(),
    }
}

async fn token(
    state: &AppState,
    ip: Option<IpAddr>,
    headers: &HeaderMap,
    params: &TokenParams,
) -> Result<AccessTokenResponse, TokenError> {
    let credentials = Credentials::from_request(headers, &params.client)?;
    let client =
        client_auth::authenticate(state, &credentials, &state.urls().token_endpoint()).await?;
    let request = TokenRequest::try_from(params)
        .map_err(|error| TokenError::Request(error.to_client_error()))?;

    // Switched off, the device grant is one we do not serve, whatever the client registered.
    if let TokenRequest::DeviceCode { .. } = request
        && !state.site_config().device_code_grant_enabled
    {
        return Err(TokenError::UnsupportedGrantType);
    }
    // RFC 6749 §5.2: a client may only use the grants it registered.
    if !client_has_grant(&client, request.grant_type().as_str()) {
        return Err(TokenError::UnauthorizedClient(
            "the client is not allowed to use this grant type",
        ));
    }

    match request {
        TokenRequest::AuthorizationCode {
            code,
            code_verifier,
            ..
        } => {
            // The redirect URI is compared as sent, not as parsed: RFC 6749 §4.1.3 asks for the
            // same value as in the authorization request.
            let request = authorization_code::CodeRequest {
                code: &code,
                redirect_uri: params.redirect_uri.as_deref(),
                code_verifier: code_verifier.as_deref(),
            };
            authorization_code::exchange(state, &client, &request).await
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
        } => refresh_token::refresh(state, &client, &refresh_token, scope.as_ref(), ip).await,
        TokenRequest::ClientCredentials { scope } => {
            let user_agent = crate::requester::user_agent(&headers);
            client_credentials::grant(state, &client, &scope, user_agent).await
        }
        TokenRequest::DeviceCode { device_code } => {
            device_code::exchange(state, &client, &device_code).await
        }
    }
}

/// Why the token endpoint refuses a request.
#[derive(Debug)]
pub enum TokenError {
    /// The client did not authenticate (401 `invalid_client`).
    ClientAuth(ClientAuthFailure),
    /// The request itself is malformed, as the protocol crate judged it.
    Request(ClientError),
    /// A grant type we do not serve.
    UnsupportedGrantType,
    /// The client may not do this.
    UnauthorizedClient(&'static str),
    /// The code or refresh token is unknown, spent, expired, of another client, or its session
    /// or user is no longer active.
    InvalidGrant(&'static str),
    /// The scope asked for is not allowed.
    InvalidScope(String),
    /// RFC 8628 §3.5: the user has not answered yet.
    AuthorizationPending,
    /// RFC 8628 §3.5: the device polls faster than it was told to.
    SlowDown,
    /// RFC 8628 §3.5: the user refused.
    AccessDenied,
    /// RFC 8628 §3.5: the device code expired.
    ExpiredToken,
    /// The homeserver could not be told about the session's device; nothing was spent, so the
    /// client may try again.
    Homeserver(HomeserverError),
    /// Our fault.
    Internal(Internal),
}

impl From<ClientAuthFailure> for TokenError {
    fn from(failure: ClientAuthFailure) -> Self {
        Self::ClientAuth(failure)
    }
}

impl From<Internal> for TokenError {
    fn from(error: Internal) -> Self {
        Self::Internal(error)
    }
}

impl From<StorageError> for TokenError {
    fn from(error: StorageError) -> Self {
        Self::Internal(error.into())
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let (code, description) = match self {
            Self::ClientAuth(failure) => return failure.response("token"),
            Self::Internal(internal) => return internal.response("token"),
            Self::Request(error) => return reply::error(&error),
            Self::Homeserver(error) => {
                tracing::error!(error = %error, "cannot create the device on the homeserver");
                return reply::error(
                    &ClientError::new(ErrorCode::TemporarilyUnavailable).with_description(
                        "the homeserver cannot be reached to set up this device; try again later",
                    ),
                );
            }
            Self::UnsupportedGrantType => (
                ErrorCode::UnsupportedGrantType,
                "this grant type is not supported".to_owned(),
            ),
            Self::UnauthorizedClient(why) => (ErrorCode::UnauthorizedClient, why.to_owned()),
            Self::InvalidGrant(why) => (ErrorCode::InvalidGrant, why.to_owned()),
            Self::InvalidScope(why) => (ErrorCode::InvalidScope, why),
            Self::AuthorizationPending => (
                ErrorCode::AuthorizationPending,
                "the user has not approved this device yet".to_owned(),
            ),
            Self::SlowDown => (
                ErrorCode::SlowDown,
                "polling too often; wait 5 seconds more between polls".to_owned(),
            ),
            Self::AccessDenied => (
                ErrorCode::AccessDenied,
                "the user refused this device".to_owned(),
            ),
            Self::ExpiredToken => (
                ErrorCode::ExpiredToken,
                "the device code expired; start again".to_owned(),
            ),
        };
        reply::error(&ClientError::new(code).with_description(description))
    }
}

/// Tokens just stored for a session.
struct IssuedTokens {
    access_token: String,
    access: AccessToken,
    refresh_token: Option<(String, RefreshToken)>,
    expires_in: u64,
}

impl IssuedTokens {
    fn response(self, scope: &Scope, id_token: Option<String>) -> AccessTokenResponse {
        AccessTokenResponse {
            access_token: self.access_token,
            token_type: AccessTokenType::Bearer,
            expires_in: Some(self.expires_in),
            refresh_token: self.refresh_token.map(|(token, _)| token),
            scope: (!scope.is_empty()).then(|| scope.clone()),
            id_token,
        }
    }
}

/// Stores a new access token for `session`, valid for `access_token_ttl`, and with it a
/// refresh token if `with_refresh`.
async fn issue_tokens(
    state: &AppState,
    repo: &mut dyn Repository,
    session: &OAuthSession,
    with_refresh: bool,
    now: DateTime<Utc>,
) -> Result<IssuedTokens, TokenError> {
    let ttl = state.site_config().access_token_ttl;
    let lifetime =
        TimeDelta::from_std(ttl).map_err(|_| Internal::from("access_token_ttl is out of range"))?;
    let access_token = TokenType::AccessToken.generate(&mut rand::thread_rng());
    let refresh_token =
        with_refresh.then(|| TokenType::RefreshToken.generate(&mut rand::thread_rng()));

    let access = repo
        .oauth_access_tokens()
        .add(session, &access_token, Some(now + lifetime), now)
        .await?;
    let refresh_token = match refresh_token {
        Some(token) => {
            let stored = repo
                .oauth_refresh_tokens()
                .add(session, &token, Some(&access), now)
                .await?;
            Some((token, stored))
        }
        None => None,
    };
    Ok(IssuedTokens {
        access_token,
        access,
        refresh_token,
        expires_in: ttl.as_secs(),
    })
}

/// A grant a user approved in a browser session, ready to give its client tokens.
struct UserGrant<'a> {
    client: &'a OAuthClient,
    session: &'a OAuthSession,
    user: &'a User,
    browser_session: &'a BrowserSession,
    /// The `nonce` of the authorization request, for the ID token.
    nonce: Option<&'a str>,
    /// The authorization code exchanged, for the ID token's `c_hash`.
    code: Option<&'a str>,
}

/// The user who approved a grant and the browser session they approved it in, both still
/// active: tokens are not given for an account locked or signed out since.
async fn approving_user(
    repo: &mut dyn Repository,
    user_id: Ulid,
    browser_session_id: Ulid,
) -> Result<(User, BrowserSession), TokenError> {
    let user = repo
        .users()
        .find_by_id(user_id)
        .await?
        .filter(User::is_active)
        .ok_or(TokenError::InvalidGrant(
            "the account is locked or deactivated",
        ))?;
    let browser_session = repo
        .browser_sessions()
        .find(browser_session_id)
        .await?
        .filter(BrowserSession::is_active)
        .ok_or(TokenError::InvalidGrant("the user has signed out since"))?;
    Ok((user, browser_session))
}

/// Issues the tokens of a user grant: an access token, a refresh token if the client
/// registered that grant, and an ID token if `openid` was granted (OpenID Connect Core
/// §3.1.3.3). Returns the answer and the id of the stored access token, for the log.
async fn issue_for_user(
    state: &AppState,
    repo: &mut dyn Repository,
    grant: &UserGrant<'_>,
    now: DateTime<Utc>,
) -> Result<(AccessTokenResponse, Ulid), TokenError> {
    let scope = session_scope(grant.session)?;
    let with_refresh = client_has_grant(grant.client, "refresh_token");
    let issued = issue_tokens(state, repo, grant.session, with_refresh, now).await?;

    let id_token = if scope.contains(OPENID) {
        let auth_time = repo
            .browser_sessions()
            .last_authentication(grant.browser_session)
            .await?
            .unwrap_or(grant.browser_session.created_at);
        let email = if scope.contains(EMAIL) {
            id_token::primary_email(repo, grant.user).await?
        } else {
            None
        };
        let claims = id_token::IdTokenClaims {
            client: grant.client,
            user: grant.user,
            auth_time,
            nonce: grant.nonce,
            access_token: Some(&issued.access_token),
            code: grant.code,
            email: email.as_deref(),
        };
        Some(id_token::sign(state, &claims, now)?)
    } else {
        None
    };
    let access_token_id = issued.access.id;
    Ok((issued.response(&scope, id_token), access_token_id))
}

/// Creates the device that `scope` binds a session of `user` to on the homeserver, before the
/// session's first token is handed out (see [`portcullis_services::devices`]). Nothing to do for a scope
/// without a device.
async fn provision_device(
    state: &AppState,
    user: &User,
    scope: &str,
    display_name: Option<&str>,
) -> Result<(), TokenError> {
    let Some(device_id) = scope
        .parse::<Scope>()
        .ok()
        .and_then(|scope| scope.device_id().map(str::to_owned))
    else {
        return Ok(());
    };
    portcullis_services::devices::provision_device(
        state.homeserver().as_ref(),
        &user.username,
        &device_id,
        display_name,
    )
    .await
    .map_err(TokenError::Homeserver)
}

/// The scope stored on a session, which we wrote ourselves.
fn session_scope(session: &OAuthSession) -> Result<Scope, Internal> {
    session.scope.parse().map_err(|error| {
        Internal::from(format!(
            "session {} has an invalid scope: {error}",
            session.id
        ))
    })
}

/// Whether `client` registered `grant_type`.
fn client_has_grant(client: &OAuthClient, grant_type: &str) -> bool {
    client.grant_types.iter().any(|g| g == grant_type)
}
