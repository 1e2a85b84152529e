//! The device authorization grant at the token endpoint (RFC 8628 §3.4–3.5).
//!
//! The device polls with its device code until the user answers at `/device/{id}`. Every poll
//! of an open grant is recorded in a unit of work of its own, committed whatever the answer,
//! so that a device polling sooner than the interval is told to `slow_down`.
//!
//! Once the user approved, the OAuth session is created and the grant marked exchanged in one
//! unit of work. The mark is a single conditional update, so of several polls racing with the
//! same device code (even in several server processes) exactly one gets tokens; the others
//! roll back the session they made. The session belongs to the user and browser session the
//! grant was bound to by the first approval, never to anything the poll says.

use chrono::{DateTime, Utc};
use portcullis_model::{DeviceCodeGrant, DeviceCodeGrantStage, OAuthClient};
use portcullis_oauth::requests::AccessTokenResponse;
use portcullis_storage::NewOAuthSession;
use ulid::Ulid;

use super::{TokenError, TokenIssuer, UserGrant, approving_user};

/// RFC 8628 §3.2: how many seconds a device waits between polls.
pub const POLL_INTERVAL: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

/// Answers a poll of `client` with `device_code`: tokens once, and an RFC 8628 §3.5 error
/// until then.
pub async fn exchange(
    issuer: &mut TokenIssuer<'_>,
    client: &OAuthClient,
    device_code: &str,
) -> Result<AccessTokenResponse, TokenError> {
    let now = issuer.now;
    let grant = poll(issuer, client, device_code, now).await?;
    // Rejected and exchanged grants were answered by `poll`.
    let DeviceCodeGrantStage::Fulfilled {
        browser_session_id,
        user_id,
        ..
    } = grant.stage
    else {
        return Err(TokenError::AuthorizationPending);
    };
    // The device exists on the homeserver before the tokens do; if this fails, the grant is
    // untouched and the next poll tries again.
    let mut repo = issuer.repositories.read_transaction().await?;
    let user = repo.users().find_by_id(user_id).await?;
    repo.rollback().await?;
    if let Some(user) = user {
        issuer
            .provision_device(&user, &grant.scope, client.client_name.as_deref())
            .await?;
    }
    redeem(
        issuer,
        client,
        device_code,
        &grant,
        user_id,
        browser_session_id,
        now,
    )
    .await
}

/// The grant of `device_code`, if `client` may poll it now; the poll is recorded.
async fn poll(
    issuer: &mut TokenIssuer<'_>,
    client: &OAuthClient,
    device_code: &str,
    now: DateTime<Utc>,
) -> Result<DeviceCodeGrant, TokenError> {
    let mut repo = issuer.repositories.transaction().await?;
    let grants = repo.oauth_device_code_grants();
    let grant = grants
        .find_by_device_code(device_code)
        .await?
        .ok_or(TokenError::InvalidGrant("unknown device code"))?;
    // RFC 6749 §5.2: the code was issued to another client. Checked before anything is
    // recorded, so that another client cannot make the device slow down either.
    if grant.client_id != client.id {
        return Err(TokenError::InvalidGrant(
            "the device code was issued to another client",
        ));
    }
    match grant.stage {
        DeviceCodeGrantStage::Exchanged { session_id, .. } => {
            tracing::warn!(grant.id = %grant.id, session.id = %session_id, "device code presented again after its exchange");
            return Err(TokenError::InvalidGrant("the device code was already used"));
        }
        _ if grant.is_expired(now) => return Err(TokenError::ExpiredToken),
        DeviceCodeGrantStage::Rejected { .. } => return Err(TokenError::AccessDenied),
        DeviceCodeGrantStage::Pending | DeviceCodeGrantStage::Fulfilled { .. } => {}
    }
    let previous = grants.record_poll(grant.id, now).await?;
    repo.commit().await?;
    // RFC 8628 §3.5: "slow_down [...] the interval MUST be increased by 5 seconds for this
    // and all subsequent requests". A device that ignores it keeps being told.
    if previous.is_some_and(|previous| now - previous < POLL_INTERVAL) {
        return Err(TokenError::SlowDown);
    }
    Ok(grant)
}

/// Starts the session of an approved grant, marks the grant exchanged and issues the tokens,
/// all in one unit of work.
async fn redeem(
    issuer: &mut TokenIssuer<'_>,
    client: &OAuthClient,
    device_code: &str,
    grant: &DeviceCodeGrant,
    user_id: Ulid,
    browser_session_id: Ulid,
    now: DateTime<Utc>,
) -> Result<AccessTokenResponse, TokenError> {
    let mut repo = issuer.repositories.transaction().await?;
    let (user, browser_session) = approving_user(&mut *repo, user_id, browser_session_id).await?;
    let session = repo
        .oauth_sessions()
        .add(
            &NewOAuthSession {
                client_id: client.id,
                user_id: Some(user.id),
                user_session_id: Some(browser_session.id),
                scope: grant.scope.clone(),
                user_agent: grant.user_agent.clone(),
                human_name: None,
            },
            now,
        )
        .await?;
    if repo
        .oauth_device_code_grants()
        .exchange(device_code, &session, now)
        .await?
        .is_none()
    {
        // Another poll got there first (or the code expired since it was read): it won, and
        // dropping this unit of work rolls back the session just added.
        return Err(TokenError::InvalidGrant("the device code was already used"));
    }
    let user_grant = UserGrant {
        client,
        session: &session,
        user: &user,
        browser_session: &browser_session,
        nonce: None,
        code: None,
    };
    let (response, access_token_id) = issuer.issue_for_user(&mut *repo, &user_grant).await?;
    repo.commit().await?;
    tracing::info!(
        client.id = %client.client_id,
        grant.id = %grant.id,
        session.id = %session.id,
        access_token.id = %access_token_id,
        "device code exchanged"
    );
    Ok(response)
}
