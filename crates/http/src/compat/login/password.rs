//! `m.login.password`: a user, named by localpart, Matrix ID or (when allowed) email address,
//! and their password.
//!
//! The password itself is checked by the sign-in service
//! ([`portcullis_services::sign_in`]); then the device is created on the homeserver, and only
//! then are the session, its tokens and any password hash upgrade written in one transaction.

use portcullis_services::sign_in::{Authenticated, Identifier, SignInError, localpart_of};
use zeroize::Zeroizing;

use super::{Login, LoginResponse, With};
use crate::{AppState, compat::error::MatrixError};

/// The same answer whether the user is unknown or the password wrong, so that nobody can tell
/// which accounts exist.
fn invalid_credentials() -> MatrixError {
    MatrixError::forbidden("Invalid username or password")
}

/// Why `m.login.password` refuses an account with a second factor (or that must add one).
pub const SECOND_FACTOR_REFUSAL: &str = "This account uses two-step verification, which \
     m.login.password cannot ask for. Sign in with a client that opens the server's sign-in \
     page in a browser (OAuth 2.0), or, for a bot or a script, use a personal access token.";

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
    if let Identifier::Username(user) = who
        && localpart_of(user.trim(), &site.server_name).is_none()
    {
        return Err(MatrixError::forbidden(
            "this user does not belong to this server",
        ));
    }

    let Authenticated { user, upgrade } = state
        .password_sign_in()
        .sign_in(login.ip.0, who, password)
        .await
        .map_err(|error| match error {
            SignInError::InvalidCredentials | SignInError::NoPassword => invalid_credentials(),
            // Told only to whoever gave the right password.
            SignInError::Deactivated => MatrixError::user_deactivated(),
            SignInError::Locked => MatrixError::user_locked(),
            SignInError::RateLimited { wait } => MatrixError::limit_exceeded(wait),
            SignInError::Busy => MatrixError::busy(state.passwords().retry_after()),
            SignInError::PasswordsDisabled => {
                MatrixError::unrecognized("password login is disabled on this server")
            }
            SignInError::Storage(error) => MatrixError::internal(&error),
            SignInError::Hashing(error) => MatrixError::internal(&error),
        })?;

    // Told only to whoever gave the right password, as a locked account is. The Matrix login
    // API has no step to ask for a code; a browser sign-in has.
    let requirement = site.second_factors.required;
    let next = portcullis_services::second_factor::after_first_factor(
        state.database(),
        &user,
        requirement,
    )
    .await?;
    if next != portcullis_services::second_factor::NextStep::SignedIn {
        tracing::info!(user.id = %user.id, "m.login.password refused: the account has a second factor");
        return Err(MatrixError::forbidden(SECOND_FACTOR_REFUSAL));
    }

    let with = upgrade
        .as_ref()
        .map_or(With::Nothing, With::PasswordUpgrade);
    login
        .sign_in(state, &user, None, with, "a password")
        .await?
        .ok_or_else(|| MatrixError::forbidden("The sign-in could not be completed"))
}
