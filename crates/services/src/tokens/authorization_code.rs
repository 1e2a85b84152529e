//! The authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.6, OpenID Connect Core §3.1.3).

use crate::sessions;
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_model::{AuthorizationGrant, AuthorizationGrantStage, CodeChallenge, OAuthClient};
use portcullis_oauth::{
    ToClientError as _,
    pkce::{self, Pkce},
    requests::AccessTokenResponse,
};
use portcullis_storage::{BoxRepository, Repository};
use url::Url;

use super::{TokenError, TokenIssuer, UserGrant, approving_user};

/// How long after consent a code may be exchanged. RFC 6749 §4.1.2 recommends at most ten
/// minutes.
const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(10);

/// The parameters of a code exchange.
pub struct CodeRequest<'a> {
    /// The code, as sent.
    pub code: &'a str,
    /// As sent, unparsed.
    pub redirect_uri: Option<&'a str>,
    /// The PKCE verifier, if sent.
    pub code_verifier: Option<&'a str>,
}

/// Exchanges a code for tokens.
///
/// The code is spent by its first presentation, whatever comes next: a code that then fails a
/// check (another client, another redirect URI, a wrong PKCE verifier, too late) may be in the
/// wrong hands, so the session made for it ends as well. A code presented after it was spent is
/// a replay: RFC 6749 §4.1.2 asks to revoke what it gave.
pub async fn exchange(
    issuer: &mut TokenIssuer<'_>,
    client: &OAuthClient,
    request: &CodeRequest<'_>,
) -> Result<AccessTokenResponse, TokenError> {
    let now = issuer.now;
    provision_device_of_code(issuer, client, request.code).await?;
    let mut repo = issuer.repositories.transaction().await?;
    let Some(grant) = repo
        .oauth_authorization_grants()
        .exchange(request.code, now)
        .await?
    else {
        return refuse_unusable_code(repo, request.code, now).await;
    };

    match issue_for_grant(issuer, &mut *repo, client, &grant, request, now).await {
        Ok(response) => {
            repo.commit().await?;
            Ok(response)
        }
        Err(error @ (TokenError::Internal(_) | TokenError::Storage(_))) => Err(error),
        Err(error) => {
            if let Some(session_id) = grant.stage.session_id()
                && let Some(session) = repo.oauth_sessions().find(session_id).await?
            {
                sessions::end_oauth_session(&mut *repo, &session, now).await?;
            }
            repo.commit().await?;
            Err(error)
        }
    }
}

/// Creates the device of the code's session on the homeserver, when the code is one `client`
/// may still exchange. This happens before the exchange, outside its unit of work (so that no
/// database lock is held during the call): if the homeserver cannot be reached, the code is not
/// spent and the client may try again. Should the exchange then fail, ending the session queues
/// the device's deletion.
async fn provision_device_of_code(
    issuer: &mut TokenIssuer<'_>,
    client: &OAuthClient,
    code: &str,
) -> Result<(), TokenError> {
    let mut repo = issuer.repositories.read_transaction().await?;
    let mut target = None;
    if let Some(grant) = repo.oauth_authorization_grants().find_by_code(code).await?
        && grant.client_id == client.id
        // Most grants of a Matrix client bind a device; those that do not need no more reads.
        && grant.scope.device_id().is_some()
        && let AuthorizationGrantStage::Fulfilled { session_id, .. } = grant.stage
        && let Some(session) = repo.oauth_sessions().find(session_id).await?
        && let Some(user_id) = session.user_id
        && let Some(user) = repo.users().find_by_id(user_id).await?
    {
        target = Some((user, session));
    }
    repo.rollback().await?;
    if let Some((user, session)) = target {
        issuer
            .provision_device(&user, &session.scope, client.client_name.as_deref())
            .await?;
    }
    Ok(())
}

/// A code [`exchange`](portcullis_storage::AuthorizationGrantRepository::exchange) refused:
/// unknown, not consented to, cancelled, or already exchanged.
async fn refuse_unusable_code(
    mut repo: BoxRepository,
    code: &str,
    now: DateTime<Utc>,
) -> Result<AccessTokenResponse, TokenError> {
    let grant = repo.oauth_authorization_grants().find_by_code(code).await?;
    let Some(AuthorizationGrant {
        id,
        stage: AuthorizationGrantStage::Exchanged { session_id, .. },
        ..
    }) = grant
    else {
        return Err(TokenError::InvalidGrant("unknown authorization code"));
    };
    // RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization
    // server MUST deny the request and SHOULD revoke (when possible) all tokens previously
    // issued based on that authorization code."
    if let Some(session) = repo.oauth_sessions().find(session_id).await? {
        sessions::end_oauth_session(&mut *repo, &session, now).await?;
    }
    repo.commit().await?;
    tracing::warn!(grant.id = %id, session.id = %session_id, "authorization code replayed; its session is ended");
    Err(TokenError::InvalidGrant(
        "the authorization code was already used; the tokens it gave are revoked",
    ))
}

/// Checks a just-exchanged grant against the request and issues its tokens.
async fn issue_for_grant(
    issuer: &mut TokenIssuer<'_>,
    repo: &mut dyn Repository,
    client: &OAuthClient,
    grant: &AuthorizationGrant,
    request: &CodeRequest<'_>,
    now: DateTime<Utc>,
) -> Result<AccessTokenResponse, TokenError> {
    // RFC 6749 §4.1.3: the code was issued to the authenticated client...
    if grant.client_id != client.id {
        return Err(TokenError::InvalidGrant(
            "the authorization code was issued to another client",
        ));
    }
    // ...and the redirect URI is the one of the authorization request.
    if !same_redirect_uri(request.redirect_uri, grant.redirect_uri.as_str()) {
        return Err(TokenError::InvalidGrant(
            "redirect_uri differs from the one of the authorization request",
        ));
    }
    let AuthorizationGrantStage::Exchanged {
        session_id,
        user_session_id,
        fulfilled_at,
        ..
    } = grant.stage
    else {
        return Err(TokenError::Internal(
            "an exchanged grant is not in the exchanged stage".to_owned(),
        ));
    };
    if now - fulfilled_at > CODE_LIFETIME {
        return Err(TokenError::InvalidGrant("the authorization code expired"));
    }
    // RFC 7636 §4.6; a verifier without a challenge is refused too, so that a client cannot
    // be tricked into believing PKCE protected it (RFC 9700 §4.8.2, PKCE downgrade).
    let stored = grant.code_challenge.as_ref().map(stored_pkce).transpose()?;
    pkce::check_token_request(stored.as_ref(), request.code_verifier)
        .map_err(|error| TokenError::Request(error.to_client_error()))?;

    let session = repo
        .oauth_sessions()
        .find(session_id)
        .await?
        .filter(portcullis_model::OAuthSession::is_active)
        .ok_or(TokenError::InvalidGrant(
            "the session of this code has ended",
        ))?;
    let user_id = session.user_id.ok_or_else(|| {
        TokenError::Internal("the session of an authorization grant has no user".to_owned())
    })?;
    let (user, browser_session) = approving_user(repo, user_id, user_session_id).await?;

    let user_grant = UserGrant {
        client,
        session: &session,
        user: &user,
        browser_session: &browser_session,
        nonce: grant.nonce.as_deref(),
        code: Some(request.code),
    };
    let (response, access_token_id) = issuer.issue_for_user(repo, &user_grant).await?;
    tracing::info!(
        client.id = %client.client_id,
        session.id = %session.id,
        access_token.id = %access_token_id,
        "authorization code exchanged"
    );
    Ok(response)
}

/// Whether the redirect URI of the token request is the one of the authorization request:
/// the same string, or the same URL once both are parsed (which only normalises what a URL
/// parser always would, such as the case of the scheme).
fn same_redirect_uri(sent: Option<&str>, stored: &str) -> bool {
    let Some(sent) = sent else {
        return false;
    };
    sent == stored || matches!((Url::parse(sent), Url::parse(stored)), (Ok(a), Ok(b)) if a == b)
}

/// The challenge stored with the grant, in the protocol crate's terms.
fn stored_pkce(challenge: &CodeChallenge) -> Result<Pkce, TokenError> {
    let method = challenge.method;
    let parsed = pkce::CodeChallenge::parse(method, &challenge.challenge).map_err(|error| {
        TokenError::Internal(format!("a stored code challenge is invalid: {error}"))
    })?;
    Ok(Pkce {
        method,
        challenge: parsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_redirect_uri_does_not_match() {
        assert!(!same_redirect_uri(None, "https://app.example/cb"));
    }

    #[test]
    fn the_redirect_uri_must_be_the_same() {
        assert!(same_redirect_uri(
            Some("https://app.example/cb"),
            "https://app.example/cb"
        ));
        assert!(!same_redirect_uri(
            Some("https://app.example/cb/"),
            "https://app.example/cb"
        ));
        assert!(!same_redirect_uri(
            Some("https://app.example/cb?x=1"),
            "https://app.example/cb"
        ));
    }
}
