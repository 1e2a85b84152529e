//! The authorization code flow's grant (RFC 6749 §4.1, OpenID Connect Core §3): what happens
//! when a signed-in user allows a client, at the consent page or because they consented before.
//!
//! Exchanging the code for tokens is [`crate::tokens::authorization_code`].

use chrono::{DateTime, Utc};
use portcullis_keys::Keystore;
use portcullis_model::{AuthorizationGrant, BrowserSession, OAuthClient, User};
use portcullis_oauth::token::generate_code;
use portcullis_storage::{NewOAuthSession, Repository, StorageError};
use rand::RngCore;
use url::Url;

use crate::tokens::id_token;

/// What the client gets back through the user's browser.
#[derive(Debug)]
pub struct Fulfilled {
    /// The authorization code, when the response type asks for one.
    pub code: Option<String>,
    /// The ID token, when the response type asks for one.
    pub id_token: Option<String>,
}

/// Why a grant was not fulfilled.
#[derive(Debug)]
pub enum FulfillError {
    /// Answered meanwhile, in another tab or by a double click.
    AlreadyAnswered,
    /// The ID token cannot be signed.
    Signing(String),
    /// Storage failed.
    Storage(StorageError),
}

impl From<StorageError> for FulfillError {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

/// Who allows a grant, and what signs its ID token.
pub struct Approval<'a> {
    /// The user.
    pub user: &'a User,
    /// The browser session they are signed in with.
    pub browser_session: &'a BrowserSession,
    /// The client's `User-Agent`, as the browser sent it.
    pub user_agent: Option<String>,
    /// Signs the ID token of a hybrid or implicit response.
    pub keystore: &'a Keystore,
    /// Our issuer identifier.
    pub issuer: &'a Url,
}

/// Allows `grant` in `repo`'s unit of work: the session starts, the code is made, a
/// confidential client's consent is remembered, and the ID token signed when asked for. The
/// caller commits on success; on error nothing is kept.
///
/// # Errors
/// A [`FulfillError`] when the grant was answered meanwhile or storage or signing fails.
pub async fn fulfill(
    repository: &mut dyn Repository,
    grant: &AuthorizationGrant,
    client: &OAuthClient,
    approval: &Approval<'_>,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<Fulfilled, FulfillError> {
    let session = repository
        .oauth_sessions()
        .add(
            &NewOAuthSession {
                client_id: client.id,
                user_id: Some(approval.user.id),
                user_session_id: Some(approval.browser_session.id),
                scope: grant.scope.clone(),
                user_agent: approval.user_agent.clone(),
                human_name: None,
            },
            now,
        )
        .await?;
    let code = grant.response_type_code.then(|| generate_code(rng, 32));
    let fulfilled = repository
        .oauth_authorization_grants()
        .fulfill(
            grant.id,
            &session,
            approval.browser_session,
            code.as_deref(),
            now,
        )
        .await?;
    if fulfilled.is_none() {
        return Err(FulfillError::AlreadyAnswered);
    }
    if !client.is_public() {
        let tokens: Vec<String> = grant
            .scope
            .iter()
            .map(|token| token.as_str().to_owned())
            .collect();
        repository
            .oauth_consents()
            .grant(approval.user, client, &tokens, now)
            .await?;
    }
    let id_token = if grant.response_type_id_token {
        let auth_time = repository
            .browser_sessions()
            .last_authentication(approval.browser_session)
            .await?
            .unwrap_or(now);
        let email = if grant.scope.contains("email") {
            id_token::primary_email(repository, approval.user).await?
        } else {
            None
        };
        let claims = id_token::IdTokenClaims {
            client,
            user: approval.user,
            auth_time,
            nonce: grant.nonce.as_deref(),
            access_token: None,
            code: code.as_deref(),
            email: email.as_deref(),
        };
        let signed = id_token::sign(approval.keystore, approval.issuer, &claims, now)
            .map_err(|error| FulfillError::Signing(error.to_string()))?;
        Some(signed)
    } else {
        None
    };
    tracing::info!(grant.id = %grant.id, client.id = %client.client_id, user.id = %approval.user.id, "authorization granted");
    Ok(Fulfilled { code, id_token })
}
