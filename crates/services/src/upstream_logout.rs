//! Back-channel logout from an upstream provider (OpenID Connect Back-Channel Logout 1.0):
//! someone signed out at the provider, which posts a signed logout token naming their account
//! (`sub`) and/or their session there (`sid`). What follows is the provider's
//! `on_backchannel_logout`: nothing (`do_nothing`, the default), the browser sessions its
//! sign-ins began or re-authenticated end (`logout_browser_only`), or those and every client
//! session begun from them, whose devices the homeserver then deletes (`logout_all`).

use chrono::{DateTime, Utc};
use portcullis_config::sections::upstream_oauth2::{OnBackchannelLogout, TokenAuthMethod};
use portcullis_oidc_client::{
    id_token::ProviderKeys,
    logout_token::{self, ExpectedLogout, LoggedOut, LogoutTokenError},
    metadata::MetadataError,
};
use portcullis_storage::{
    CompatSessionFilter, OAuthSessionFilter, Pagination, RepositoryFactory, SessionFilter,
    StorageError,
};

use crate::{
    sessions::{end_browser_session, end_compat_session, end_oauth_session},
    upstream_sign_in::{Provider, UpstreamClient},
};

/// The most client sessions one browser session is expected to have begun; beyond, the
/// oldest are ended (a later logout ends the rest).
const MAX_CLIENT_SESSIONS: usize = 1000;

/// Why a logout request is refused.
#[derive(Debug, thiserror::Error)]
pub enum BackchannelError {
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error("the provider has no issuer (it is not an OpenID Connect provider)")]
    NoIssuer,
    #[error("the logout token is refused: {0}")]
    Token(#[from] LogoutTokenError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a logout ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ended {
    /// Who the token named.
    pub logged_out: Option<LoggedOut>,
    pub browser_sessions: usize,
    pub client_sessions: usize,
}

/// Validates `logout_token` against the provider's keys and settings and applies its
/// `on_backchannel_logout`.
///
/// # Errors
/// See [`BackchannelError`]: a token that does not validate changes nothing.
pub async fn backchannel_logout(
    database: &dyn RepositoryFactory,
    client: &UpstreamClient,
    provider: &Provider,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Ended, BackchannelError> {
    let config = &provider.config;
    let metadata = client.metadata.get(config).await?;
    let issuer = metadata
        .issuer
        .as_deref()
        .ok_or(BackchannelError::NoIssuer)?;
    // For Sign in with Apple, what is stored in the secret's place is a private key.
    let secret = provider
        .client_secret
        .as_deref()
        .map(String::as_str)
        .filter(|_| config.token_endpoint_auth_method != TokenAuthMethod::SignInWithApple);
    let keys = ProviderKeys {
        jwks_uri: metadata.jwks_uri.as_ref(),
        client_secret: secret,
        cache: &client.jwks,
    };
    let expected = ExpectedLogout {
        issuer,
        client_id: &config.client_id,
        alg: config.id_token_signed_response_alg,
        now,
    };
    let logged_out = logout_token::validate(token, expected, keys).await?;
    let mut ended = Ended {
        logged_out: Some(logged_out.clone()),
        ..Ended::default()
    };
    if config.on_backchannel_logout == OnBackchannelLogout::DoNothing {
        return Ok(ended);
    }
    let everything = config.on_backchannel_logout == OnBackchannelLogout::LogoutAll;

    let mut repo = database.transaction().await?;
    let browser_sessions = repo
        .upstream_authorization_sessions()
        .open_sessions_signed_in_by(
            &config.id,
            logged_out.sub.as_deref(),
            logged_out.sid.as_deref(),
        )
        .await?;
    for id in browser_sessions {
        let Some(session) = repo.browser_sessions().find(id).await? else {
            continue;
        };
        if end_browser_session(&mut *repo, &session, now).await? {
            ended.browser_sessions += 1;
        }
        if !everything {
            continue;
        }
        let standing = SessionFilter {
            active: Some(true),
            ..SessionFilter::default()
        };
        let oauth = repo
            .oauth_sessions()
            .list_page(
                &OAuthSessionFilter {
                    session: standing.clone(),
                    user_session: Some(id),
                    ..OAuthSessionFilter::default()
                },
                Pagination::first(MAX_CLIENT_SESSIONS),
            )
            .await?
            .edges;
        for session in oauth {
            if end_oauth_session(&mut *repo, &session, now).await? {
                ended.client_sessions += 1;
            }
        }
        let compat = repo
            .compat_sessions()
            .list_page(
                &CompatSessionFilter {
                    session: standing,
                    user_session: Some(id),
                },
                Pagination::first(MAX_CLIENT_SESSIONS),
            )
            .await?
            .edges;
        for session in compat {
            if end_compat_session(&mut *repo, &session, now).await? {
                ended.client_sessions += 1;
            }
        }
    }
    repo.commit().await?;
    Ok(ended)
}
