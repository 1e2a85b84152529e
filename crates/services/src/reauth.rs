//! Re-authentication on the sensitive account pages: the password typed in the same form, or,
//! where the action allows it, an authentication of the browser session less than
//! [`REAUTH_WINDOW`] old (a password typed, or a sign-in at an upstream provider). A session
//! that is merely signed in is never enough. A user without a password (who signs in only
//! through a provider) proves who they are by signing in at their provider again, for every
//! action.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_model::{AuthenticationKind, BrowserSession, User};
use portcullis_storage::{RepositoryFactory, StorageError};
use zeroize::Zeroizing;

use crate::sign_in::{PasswordSignIn, SignInError};

/// How recent a sign-in must be for the sensitive pages to do without the password.
pub const REAUTH_WINDOW: TimeDelta = TimeDelta::minutes(5);

/// How far in the future a recorded authentication may be and still count: another process's
/// clock may be a little ahead.
const CLOCK_SKEW: TimeDelta = TimeDelta::seconds(30);

/// What a sensitive action needs to go ahead, given what the form holds and when the browser
/// session last proved who its user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reauth {
    /// A password was typed: check it (a wrong one refuses, however recent the sign-in).
    CheckPassword,
    /// No password, but the last authentication is recent enough.
    Recent,
    /// No password, and no recent authentication: ask for the password.
    PasswordNeeded,
}

/// How much proof a sensitive action asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReauthPolicy {
    /// The password, or a sign-in less than [`REAUTH_WINDOW`] old: the password change, the
    /// removal of an address, the approval of a cross-signing reset.
    PasswordOrRecentSignIn,
    /// The password, every time: deactivation cannot be undone by the user, so a browser left
    /// signed in for a minute must not be enough to do it. A user without a password signs in
    /// at their provider again instead (a sign-in less than [`REAUTH_WINDOW`] old).
    PasswordEveryTime,
}

/// The re-authentication rule of the sensitive account pages: the password typed in the same
/// form, or, where `policy` allows it (or the user has no password), an authentication of the
/// browser session less than [`REAUTH_WINDOW`] old. A session that is merely signed in is never
/// enough.
#[must_use]
pub fn reauth_rule(
    policy: ReauthPolicy,
    password_entered: bool,
    has_password: bool,
    last_authentication: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Reauth {
    let recent_is_enough = policy == ReauthPolicy::PasswordOrRecentSignIn || !has_password;
    if password_entered {
        Reauth::CheckPassword
    } else if recent_is_enough && is_recent(last_authentication, now) {
        Reauth::Recent
    } else {
        Reauth::PasswordNeeded
    }
}

/// Whether an authentication at `at` is less than [`REAUTH_WINDOW`] old at `now`.
#[must_use]
pub fn is_recent(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    at.is_some_and(|at| at <= now + CLOCK_SKEW && now - at < REAUTH_WINDOW)
}

/// Why a re-authentication did not go through.
#[derive(Debug)]
pub enum ReauthError {
    /// No password was typed, and the policy asks for one now.
    PasswordNeeded,
    /// The user has no password, and their last authentication is not recent: they confirm
    /// who they are with a passkey or at their provider first.
    ConfirmationNeeded,
    /// The password typed was not accepted.
    SignIn(SignInError),
    /// Storage failed.
    Storage(StorageError),
}

impl From<StorageError> for ReauthError {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

/// When `browser_session` last proved who its user is, and whether the user has a password.
///
/// # Errors
/// When storage fails.
pub async fn last_authentication(
    repositories: &dyn RepositoryFactory,
    user: &User,
    browser_session: &BrowserSession,
) -> Result<(Option<DateTime<Utc>>, bool), StorageError> {
    let mut repository = repositories.read_transaction().await?;
    let last = repository
        .browser_sessions()
        .last_authentication(browser_session)
        .await?;
    let has_password = repository.user_passwords().active(user).await?.is_some();
    repository.rollback().await?;
    Ok((last, has_password))
}

/// Applies [`reauth_rule`]: checks a typed `password` (counted against the password rate
/// limits, per address and per account), or the age of the last authentication. A right
/// password is recorded as a new authentication of the session (and its hash upgraded if its
/// scheme is old), as a sign-in would.
///
/// # Errors
/// A [`ReauthError`] when the action may not go ahead.
#[allow(clippy::too_many_arguments)]
pub async fn reauthenticate(
    sign_in: &PasswordSignIn<'_>,
    repositories: &dyn RepositoryFactory,
    ip: Option<IpAddr>,
    user: &User,
    browser_session: &BrowserSession,
    policy: ReauthPolicy,
    password: Zeroizing<String>,
    now: DateTime<Utc>,
) -> Result<(), ReauthError> {
    let (last, has_password) = last_authentication(repositories, user, browser_session).await?;
    match reauth_rule(policy, !password.is_empty(), has_password, last, now) {
        Reauth::Recent => return Ok(()),
        Reauth::PasswordNeeded if !has_password => return Err(ReauthError::ConfirmationNeeded),
        Reauth::PasswordNeeded => return Err(ReauthError::PasswordNeeded),
        Reauth::CheckPassword => {}
    }
    let upgrade = sign_in
        .confirm(ip, user, password)
        .await
        .map_err(ReauthError::SignIn)?;
    let mut repository = repositories.transaction().await?;
    if let Some(upgrade) = &upgrade {
        upgrade.save(&mut *repository, user, now).await?;
    }
    repository
        .browser_sessions()
        .authenticate(browser_session, AuthenticationKind::Password, now)
        .await?;
    repository.commit().await?;
    Ok(())
}

/// Re-authenticates the user of `browser_session` with a passkey `answer` (the JSON of the
/// credential `navigator.credentials.get()` gave): it must be one of `user`'s passkeys. A
/// passkey verified by its authenticator is recorded as a new authentication of the session,
/// so that the sensitive pages that take a recent sign-in go ahead.
///
/// # Errors
/// When storage fails.
pub async fn reauthenticate_with_passkey(
    repositories: &dyn RepositoryFactory,
    party: &crate::passkey::RelyingParty,
    user: &User,
    browser_session: &BrowserSession,
    answer: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), crate::passkey::Refused>, StorageError> {
    let mut repository = repositories.transaction().await?;
    let outcome = crate::passkey::finish_for(&mut *repository, party, user, answer, now).await?;
    if outcome.is_ok() {
        repository
            .browser_sessions()
            .authenticate(browser_session, AuthenticationKind::Passkey, now)
            .await?;
    }
    // The ceremony is used up, whatever the answer.
    repository.commit().await?;
    Ok(outcome.map(drop))
}

/// Whether a sensitive page must ask for the password (or, for a user without one, a new
/// sign-in at their provider): always under [`ReauthPolicy::PasswordEveryTime`] for a user
/// with a password, otherwise when the last authentication of `browser_session` is not recent
/// (see [`is_recent`]).
///
/// # Errors
/// When storage fails.
pub async fn needs_password(
    repositories: &dyn RepositoryFactory,
    user: &User,
    browser_session: &BrowserSession,
    policy: ReauthPolicy,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let (last, has_password) = last_authentication(repositories, user, browser_session).await?;
    Ok(reauth_rule(policy, false, has_password, last, now) == Reauth::PasswordNeeded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes_ago: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        Some(now - TimeDelta::minutes(minutes_ago))
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid instant")
    }

    const RECENT_OK: ReauthPolicy = ReauthPolicy::PasswordOrRecentSignIn;

    #[test]
    fn a_typed_password_is_always_checked() {
        let now = now();
        assert_eq!(
            reauth_rule(RECENT_OK, true, true, at(1, now), now),
            Reauth::CheckPassword
        );
        assert_eq!(
            reauth_rule(RECENT_OK, true, true, None, now),
            Reauth::CheckPassword
        );
    }

    #[test]
    fn a_sign_in_less_than_five_minutes_old_does_without_the_password() {
        let now = now();
        assert_eq!(
            reauth_rule(RECENT_OK, false, true, at(0, now), now),
            Reauth::Recent
        );
        assert_eq!(
            reauth_rule(RECENT_OK, false, true, at(4, now), now),
            Reauth::Recent
        );
        assert_eq!(
            reauth_rule(
                RECENT_OK,
                false,
                true,
                Some(now - REAUTH_WINDOW + TimeDelta::seconds(1)),
                now
            ),
            Reauth::Recent
        );
    }

    #[test]
    fn an_older_sign_in_or_none_needs_the_password() {
        let now = now();
        assert_eq!(
            reauth_rule(RECENT_OK, false, true, Some(now - REAUTH_WINDOW), now),
            Reauth::PasswordNeeded
        );
        assert_eq!(
            reauth_rule(RECENT_OK, false, true, at(10, now), now),
            Reauth::PasswordNeeded
        );
        assert_eq!(
            reauth_rule(RECENT_OK, false, true, None, now),
            Reauth::PasswordNeeded,
            "a signed-in session alone is never enough"
        );
    }

    #[test]
    fn deactivation_needs_the_password_however_recent_the_sign_in() {
        let now = now();
        let always = ReauthPolicy::PasswordEveryTime;
        assert_eq!(
            reauth_rule(always, false, true, at(0, now), now),
            Reauth::PasswordNeeded
        );
        assert_eq!(
            reauth_rule(always, false, true, None, now),
            Reauth::PasswordNeeded
        );
        assert_eq!(
            reauth_rule(always, true, true, at(0, now), now),
            Reauth::CheckPassword
        );
    }

    #[test]
    fn a_user_without_a_password_proves_it_with_a_recent_sign_in_even_to_deactivate() {
        let now = now();
        for policy in [ReauthPolicy::PasswordEveryTime, RECENT_OK] {
            assert_eq!(
                reauth_rule(policy, false, false, at(1, now), now),
                Reauth::Recent,
                "{policy:?}"
            );
            assert_eq!(
                reauth_rule(policy, false, false, at(10, now), now),
                Reauth::PasswordNeeded,
                "{policy:?}"
            );
            assert_eq!(
                reauth_rule(policy, false, false, None, now),
                Reauth::PasswordNeeded,
                "{policy:?}"
            );
        }
    }

    #[test]
    fn an_authentication_far_in_the_future_does_not_count() {
        let now = now();
        assert!(is_recent(Some(now + TimeDelta::seconds(10)), now));
        assert!(!is_recent(Some(now + TimeDelta::hours(1)), now));
    }
}
