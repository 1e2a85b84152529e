//! Issuing OAuth 2.0 tokens: one module per grant of the token endpoint (RFC 6749 §4.1.3,
//! §4.4, §6; RFC 8628 §3.4), and the ID token (OpenID Connect Core §2).
//!
//! The HTTP layer authenticates the client and parses the request; everything after that is
//! here: which grant may be redeemed by whom and when, the session it starts or continues, the
//! device made known to the homeserver before its first token, the tokens themselves.

pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod id_token;
pub mod refresh_token;
pub mod userinfo;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_homeserver::{HomeserverConnection, HomeserverError};
use portcullis_keys::Keystore;
use portcullis_model::{
    AccessToken, BrowserSession, OAuthClient, OAuthSession, RefreshToken, User,
};
use portcullis_oauth::{
    ClientError,
    requests::{AccessTokenResponse, AccessTokenType, GrantType},
    scope::{EMAIL, OPENID, Scope},
    token::TokenType,
};
use portcullis_storage::{Repository, RepositoryFactory, StorageError};
use rand::RngCore;
use ulid::Ulid;
use url::Url;

/// What issuing tokens reads, for one request.
pub struct TokenIssuer<'a> {
    /// The database.
    pub repositories: &'a dyn RepositoryFactory,
    /// The homeserver, told about devices before their first token.
    pub homeserver: &'a dyn HomeserverConnection,
    /// Signs ID tokens.
    pub keystore: &'a Keystore,
    /// Our issuer identifier (`iss` of ID tokens).
    pub issuer: &'a Url,
    /// How long an access token lives (`experimental.access_token_ttl`).
    pub access_token_ttl: Duration,
    /// The policy deciding client credentials grants (`authorization_grant/violation`).
    pub policy: std::sync::Arc<portcullis_policy::Policy>,
    /// Where the sessions' use is noted.
    pub activity: &'a crate::activity::ActivityTracker,
    /// The instant of the request.
    pub now: DateTime<Utc>,
    /// Where new tokens' randomness comes from.
    pub rng: Box<dyn RngCore + Send + Sync + 'a>,
}

/// Why a grant gives no tokens, in RFC 6749 §5.2 and RFC 8628 §3.5 terms.
#[derive(Debug)]
pub enum TokenError {
    /// The request is malformed or asks for what it may not, as the protocol crate judged it.
    Request(ClientError),
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
    /// Storage failed (or is out of reach for a moment, which the client may retry).
    Storage(StorageError),
    /// Our fault: stored data is not what we wrote, or a key could not sign.
    Internal(String),
}

impl From<StorageError> for TokenError {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

/// Tokens just stored for a session.
pub struct IssuedTokens {
    /// The access token, in clear.
    pub access_token: String,
    /// The access token, as stored.
    pub access: AccessToken,
    /// The refresh token, in clear and as stored, when one was issued.
    pub refresh_token: Option<(String, RefreshToken)>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl IssuedTokens {
    /// The token response (RFC 6749 §5.1).
    #[must_use]
    pub fn response(self, scope: &Scope, id_token: Option<String>) -> AccessTokenResponse {
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

impl TokenIssuer<'_> {
    /// Stores a new access token for `session`, valid for `access_token_ttl`, and with it a
    /// refresh token if `with_refresh`.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn issue_tokens(
        &mut self,
        repo: &mut dyn Repository,
        session: &OAuthSession,
        with_refresh: bool,
    ) -> Result<IssuedTokens, TokenError> {
        let now = self.now;
        let lifetime = TimeDelta::from_std(self.access_token_ttl)
            .map_err(|_| TokenError::Internal("access_token_ttl is out of range".to_owned()))?;
        let access_token = TokenType::AccessToken.generate(&mut self.rng);
        let refresh_token = with_refresh.then(|| TokenType::RefreshToken.generate(&mut self.rng));

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
            expires_in: self.access_token_ttl.as_secs(),
        })
    }

    /// Issues the tokens of a user grant: an access token, a refresh token if the client
    /// registered that grant, and an ID token if `openid` was granted (OpenID Connect Core
    /// §3.1.3.3). Returns the answer and the id of the stored access token, for the log.
    async fn issue_for_user(
        &mut self,
        repo: &mut dyn Repository,
        grant: &UserGrant<'_>,
    ) -> Result<(AccessTokenResponse, Ulid), TokenError> {
        let scope = &grant.session.scope;
        let with_refresh = grant.client.has_grant(GrantType::RefreshToken);
        let issued = self.issue_tokens(repo, grant.session, with_refresh).await?;

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
            let signed = id_token::sign(self.keystore, self.issuer, &claims, self.now)
                .map_err(|error| TokenError::Internal(error.to_string()))?;
            Some(signed)
        } else {
            None
        };
        let access_token_id = issued.access.id;
        Ok((issued.response(scope, id_token), access_token_id))
    }

    /// Creates the device that `scope` binds a session of `user` to on the homeserver, before
    /// the session's first token is handed out (see [`crate::devices`]). Nothing to do for a
    /// scope without a device.
    async fn provision_device(
        &self,
        user: &User,
        scope: &Scope,
        display_name: Option<&str>,
    ) -> Result<(), TokenError> {
        let Some(device_id) = scope.device_id() else {
            return Ok(());
        };
        crate::devices::provision_device(self.homeserver, &user.username, device_id, display_name)
            .await
            .map_err(TokenError::Homeserver)
    }
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
