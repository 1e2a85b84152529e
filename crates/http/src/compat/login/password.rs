//! `m.login.password`: a user, named by localpart, Matrix ID or (when allowed) email address,
//! and their password.
//!
//! The order keeps the slow and the outside work out of transactions: read the user, count the
//! attempt against the rate limits, verify the password (slow, no transaction open), create the
//! device on the homeserver, and only then write the session, its tokens and any password hash
//! upgrade in one transaction.

use portcullis_model::{User, UserPassword};
use portcullis_passwords::{PasswordError, Verified};
use portcullis_storage::StorageError;
use zeroize::Zeroizing;

use super::{Identifier, Login, LoginResponse, check_active};
use crate::{
    AppState,
    compat::{
        error::MatrixError,
        session::{NewLogin, start_session},
    },
    human::login::localpart_of,
};

/// How long a client should wait when every password hasher is busy.
const BUSY_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

/// The same answer whether the user is unknown or the password wrong, so that nobody can tell
/// which accounts exist.
fn invalid_credentials() -> MatrixError {
    MatrixError::forbidden("Invalid username or password")
}

pub(super) async fn login(
    state: &AppState,
    login: &Login<'_>,
    who: &Identifier,
    password: Zeroizing<String>,
) -> Result<LoginResponse, MatrixError> {
    let site = state.site_config();
    if let Identifier::Email(_) = who
        && !site.login_with_email_allowed
    {
        return Err(MatrixError::forbidden(
            "signing in with an email address is not allowed on this server",
        ));
    }
    if let Identifier::User(user) = who
        && localpart_of(user.trim(), &site.server_name).is_none()
    {
        return Err(MatrixError::forbidden(
            "this user does not belong to this server",
        ));
    }

    let found = find_user(state, who).await?;
    state
        .limiters()
        .password_attempt(login.ip.0, found.as_ref().map(|(user, _)| user.id))
        .map_err(MatrixError::limit_exceeded)?;
    let Some((user, stored)) = found else {
        return Err(invalid_credentials());
    };

    let verified = state
        .passwords()
        .verify(
            u16::try_from(stored.version).unwrap_or(u16::MAX),
            &stored.hashed_password,
            password,
        )
        .await;
    let upgrade = match verified {
        Ok(Verified::Ok) => None,
        Ok(Verified::OkNeedsUpgrade { version, hashed }) => Some((version, hashed)),
        Err(PasswordError::Mismatch) => return Err(invalid_credentials()),
        Err(PasswordError::Busy) => return Err(MatrixError::limit_exceeded(BUSY_RETRY)),
        Err(PasswordError::Disabled) => {
            return Err(MatrixError::unrecognized(
                "password login is disabled on this server",
            ));
        }
        Err(error) => return Err(MatrixError::internal(&error)),
    };
    // Only now, so that the state of an account is told only to who knows its password.
    check_active(&user)?;

    crate::homeserver::provision_device(state, &user, &login.device_id, login.display_name)
        .await
        .map_err(|error| MatrixError::homeserver_unavailable(&error))?;

    let now = state.now();
    let mut repo = state.database().transaction().await?;
    if let Some((version, hashed)) = upgrade {
        // Verify-and-upgrade: the old hash stays behind the new one, as MAS keeps it.
        repo.user_passwords()
            .add(&user, &hashed, u32::from(version), Some(&stored), now)
            .await?;
    }
    let new_login = NewLogin {
        user: &user,
        device_id: &login.device_id,
        display_name: login.display_name,
        browser_session_id: None,
        user_agent: login.user_agent,
        with_refresh: login.with_refresh,
    };
    let (session, tokens) = start_session(state, &mut *repo, &new_login, now).await?;
    repo.commit().await?;

    tracing::info!(user.id = %user.id, user.username = %user.username, compat_session.id = %session.id, device.id = %session.device_id, "signed in with a password through the Matrix login API");
    Ok(LoginResponse::new(state, &user, &session, tokens))
}

/// The user named and their password, if both exist.
async fn find_user(
    state: &AppState,
    who: &Identifier,
) -> Result<Option<(User, UserPassword)>, StorageError> {
    let mut repo = state.database().read_transaction().await?;
    let user = match who {
        Identifier::User(input) => {
            match localpart_of(input.trim(), &state.site_config().server_name) {
                Some(localpart) => repo.users().find_by_username(&localpart).await?,
                None => None,
            }
        }
        Identifier::Email(address) => match repo.user_emails().find_by_email(address).await? {
            Some(email) => repo.users().find_by_id(email.user_id).await?,
            None => None,
        },
    };
    let found = match user {
        Some(user) => repo
            .user_passwords()
            .active(&user)
            .await?
            .map(|password| (user, password)),
        None => None,
    };
    repo.rollback().await?;
    Ok(found)
}
