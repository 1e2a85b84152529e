//! The refresh token grant (RFC 6749 §6), with rotation and reuse detection (RFC 9700 §4.14.2).
//!
//! Each refresh consumes the presented token, issues a new access and refresh token in the
//! same session, and revokes the access token issued with the old one. A consumed token
//! presented again means two parties hold it, one of them possibly a thief; it is refused and
//! the whole session ends, with one exception: the client never received the answer of its
//! refresh (the connection dropped), which shows as a successor that is still valid and whose
//! access token was never used. That successor pair is then revoked and a new one issued.

use std::net::IpAddr;

use portcullis_model::{OAuthClient, RefreshToken, RefreshTokenState};
use portcullis_oauth::{requests::AccessTokenResponse, scope::Scope};
use portcullis_storage::{Repository, SessionRef, StorageError};
use ulid::Ulid;

use super::{TokenError, TokenIssuer};
use crate::sessions;

/// Refreshes `token` for `client`. A `scope` parameter must name the session's scope exactly:
/// access tokens carry their session's scope, so narrowing it for one token is not possible.
pub async fn refresh(
    issuer: &mut TokenIssuer<'_>,
    client: &OAuthClient,
    token: &str,
    scope: Option<&Scope>,
    ip: Option<IpAddr>,
) -> Result<AccessTokenResponse, TokenError> {
    let now = issuer.now;
    let mut repo = issuer.repositories.transaction().await?;
    let presented = repo
        .oauth_refresh_tokens()
        .find_by_token(token)
        .await?
        .ok_or(TokenError::InvalidGrant("unknown refresh token"))?;
    let session = repo
        .oauth_sessions()
        .find(presented.session_id)
        .await?
        .ok_or(TokenError::InvalidGrant("unknown refresh token"))?;
    // RFC 6749 §6: the refresh token must have been issued to the authenticated client.
    if session.client_id != client.id {
        return Err(TokenError::InvalidGrant(
            "the refresh token was issued to another client",
        ));
    }
    if !session.is_active() {
        return Err(TokenError::InvalidGrant("the session has ended"));
    }
    if let Some(user_id) = session.user_id {
        let active = repo
            .users()
            .find_by_id(user_id)
            .await?
            .is_some_and(|user| user.is_active());
        if !active {
            return Err(TokenError::InvalidGrant(
                "the account is locked or deactivated",
            ));
        }
    }
    let granted = session.scope.clone();
    if scope.is_some_and(|requested| requested != &granted) {
        return Err(TokenError::InvalidScope(
            "the scope of a refresh must be the one granted".to_owned(),
        ));
    }

    if presented.state.is_valid() {
        let issued = issuer.issue_tokens(&mut *repo, &session, true).await?;
        let next_id = issued
            .refresh_token
            .as_ref()
            .map(|(_, stored)| stored.id)
            .ok_or_else(|| TokenError::Internal("a refresh issued no refresh token".to_owned()))?;
        // The read above and this update are not atomic: if another request consumed the token
        // in between, it won, and this one leaves no trace (dropping the unit of work rolls back
        // the tokens just added).
        if repo
            .oauth_refresh_tokens()
            .consume(token, next_id, now)
            .await?
            .is_none()
        {
            return Err(TokenError::InvalidGrant(
                "the refresh token was used by another request",
            ));
        }
        if let Some(previous) = presented.access_token_id {
            repo.oauth_access_tokens().revoke(previous, now).await?;
        }
        repo.commit().await?;
        issuer
            .activity
            .record(SessionRef::OAuth(session.id), now, ip);
        return Ok(issued.response(&granted, None));
    }

    let successor = match presented.state {
        RefreshTokenState::Consumed {
            next_refresh_token_id: Some(next_id),
            ..
        } => unused_successor(&mut *repo, next_id).await?,
        _ => None,
    };
    if let Some(successor) = successor {
        // The lost response: nobody used what the last refresh gave, so nobody but the client
        // can have it. Replace it; the replaced pair is revoked, so this works once.
        repo.oauth_refresh_tokens()
            .revoke(successor.id, now)
            .await?;
        if let Some(access_id) = successor.access_token_id {
            repo.oauth_access_tokens().revoke(access_id, now).await?;
        }
        let issued = issuer.issue_tokens(&mut *repo, &session, true).await?;
        repo.commit().await?;
        tracing::info!(session.id = %session.id, "refresh retried after a lost response");
        return Ok(issued.response(&granted, None));
    }

    sessions::end_oauth_session(&mut *repo, &session, now).await?;
    repo.commit().await?;
    tracing::warn!(session.id = %session.id, "refresh token reused; the session is ended");
    Err(TokenError::InvalidGrant(
        "the refresh token was already used; the session is revoked",
    ))
}

/// The successor of a consumed token, if it is still valid and its access token was never
/// used.
async fn unused_successor(
    repo: &mut dyn Repository,
    next_id: Ulid,
) -> Result<Option<RefreshToken>, StorageError> {
    let Some(successor) = repo.oauth_refresh_tokens().find(next_id).await? else {
        return Ok(None);
    };
    if !successor.state.is_valid() {
        return Ok(None);
    }
    let Some(access_id) = successor.access_token_id else {
        return Ok(None);
    };
    let unused = repo
        .oauth_access_tokens()
        .find(access_id)
        .await?
        .is_some_and(|access| access.first_used_at.is_none());
    Ok(unused.then_some(successor))
}
