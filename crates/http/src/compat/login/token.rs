//! `m.login.token`: the login token a single sign-on ended with
//! ([`sso_complete`](crate::compat::sso_complete)), or one an operator issued for a bot
//! (`portcullis_services::login_tokens`).
//!
//! A single sign-on's token is accepted for 30 seconds after the user allowed the sign-in, an
//! issued one until it expires; either once: the exchange is one conditional update in the
//! transaction that creates the session, so of two logins racing with the same token (on any
//! server process) exactly one gets a session. A single sign-on's session is linked to the
//! browser session the user signed in with; an issued token that names a device signs in that
//! device only.

use portcullis_model::User;
use portcullis_services::{
    compat::Started,
    login_tokens::{self, Refused},
    sessions,
    sso_login::{self, WaitingSsoLogin},
};

use super::{Login, LoginResponse, check_active};
use crate::{AppState, compat::error::MatrixError};

pub use portcullis_services::sso_login::LOGIN_TOKEN_TTL;

fn invalid_token() -> MatrixError {
    MatrixError::forbidden("Invalid login token")
}

pub(super) async fn login(
    state: &AppState,
    login: &Login<'_>,
    token: &str,
) -> Result<LoginResponse, MatrixError> {
    let now = state.now();
    let found = {
        let mut repo = state.database().read_transaction().await?;
        let found = sso_login::waiting(&mut *repo, token).await?;
        repo.rollback().await?;
        found
    };
    let Some(WaitingSsoLogin {
        id,
        fulfilled_at,
        browser_session,
        user,
    }) = found
    else {
        return issued(state, login, token).await;
    };
    if now - fulfilled_at > LOGIN_TOKEN_TTL {
        return Err(MatrixError::forbidden(
            "The login token expired; sign in again",
        ));
    }
    if !browser_session.is_active() {
        return Err(invalid_token());
    }
    check_active(&user)?;

    portcullis_services::devices::provision_device(
        state.homeserver().as_ref(),
        &user.username,
        &login.device_id,
        login.display_name,
    )
    .await
    .map_err(|error| MatrixError::homeserver_unavailable(&error))?;

    let mut repo = state.database().transaction().await?;
    let Started {
        session, tokens, ..
    } = login
        .start(state, &mut *repo, &user, Some(browser_session.id))
        .await?;
    if repo
        .compat_sso_logins()
        .exchange(id, session.id, now)
        .await?
        .is_none()
    {
        // Another login took the token first: nothing of ours is kept, and the device just
        // created goes too, unless a session of the user already had it.
        repo.rollback().await?;
        forget_device(state, &user, &login.device_id).await;
        return Err(invalid_token());
    }
    repo.commit().await?;
    login.record_activity(state, &session);

    tracing::info!(user.id = %user.id, compat_session.id = %session.id, device.id = %session.device_id, sso_login.id = %id, "signed in with a login token through the Matrix login API");
    Ok(LoginResponse::new(state, &user, &session, tokens))
}

/// A login with a token an operator issued: for its user and, when it names one, its device.
async fn issued(
    state: &AppState,
    login: &Login<'_>,
    token: &str,
) -> Result<LoginResponse, MatrixError> {
    let now = state.now();
    let found = {
        let mut repo = state.database().read_transaction().await?;
        let found =
            login_tokens::redeemable(&mut *repo, token, login.requested_device_id, now).await?;
        repo.rollback().await?;
        found
    };
    let (issued, user) = match found {
        Ok(found) => found,
        Err(Refused::Expired) => {
            return Err(MatrixError::forbidden("The login token expired"));
        }
        Err(Refused::OtherDevice(device)) => {
            return Err(MatrixError::forbidden(format!(
                "This login token can only sign in the device {device}"
            )));
        }
        Err(Refused::Unknown | Refused::Used) => return Err(invalid_token()),
    };
    check_active(&user)?;
    // A token bound to a device signs in that device, asked for or not.
    let login = Login {
        device_id: issued
            .device_id
            .clone()
            .unwrap_or_else(|| login.device_id.clone()),
        ..login.clone()
    };

    portcullis_services::devices::provision_device(
        state.homeserver().as_ref(),
        &user.username,
        &login.device_id,
        login.display_name,
    )
    .await
    .map_err(|error| MatrixError::homeserver_unavailable(&error))?;

    let mut repo = state.database().transaction().await?;
    let Started {
        session, tokens, ..
    } = login.start(state, &mut *repo, &user, None).await?;
    if !login_tokens::consume(&mut *repo, &issued, session.id, now).await? {
        repo.rollback().await?;
        forget_device(state, &user, &login.device_id).await;
        return Err(invalid_token());
    }
    repo.commit().await?;
    login.record_activity(state, &session);

    tracing::info!(user.id = %user.id, compat_session.id = %session.id, device.id = %session.device_id, login_token.id = %issued.id, "signed in with an issued login token through the Matrix login API");
    Ok(LoginResponse::new(state, &user, &session, tokens))
}

/// Queues the deletion of a device created for a login that did not happen; the job keeps it
/// if a session uses it.
async fn forget_device(state: &AppState, user: &User, device_id: &str) {
    let now = state.now();
    let result = async {
        let mut repo = state.database().transaction().await?;
        sessions::forget_device(&mut *repo, user.id, device_id.to_owned(), now).await?;
        repo.commit().await
    }
    .await;
    if let Err(error) = result {
        tracing::warn!(%error, device.id = %device_id, "cannot queue the deletion of an unused device");
    }
}
