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

use portcullis_services::{
    login_tokens::{self, Refused},
    sso_login::{self, WaitingSsoLogin},
};

use super::{Login, LoginResponse, With, check_active};
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

    login
        .sign_in(
            state,
            &user,
            Some(browser_session.id),
            With::SsoLogin(id),
            "a single sign-on's login token",
        )
        .await?
        // Another login took the token first.
        .ok_or_else(invalid_token)
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

    login
        .sign_in(
            state,
            &user,
            None,
            With::IssuedToken(&issued),
            "an issued login token",
        )
        .await?
        .ok_or_else(invalid_token)
}
