//! Signing in with a password: the sign-in page, the Matrix login API (`m.login.password`) and
//! the confirmation that the sensitive account pages ask for all go through here.
//!
//! The order is the rule:
//! 1. find the account the identifier names, with its current password hash;
//! 2. count the attempt against the rate limits, per address and per account, right or wrong;
//! 3. verify the password on the hashing pool, outside any transaction (hashing is slow, and on
//!    SQLite an open transaction holds the write lock); an unknown account, or one without a
//!    password, costs one hash as well, so the time of the answer does not tell it apart;
//! 4. only then tell a locked or deactivated account so: its state is for whoever knows its
//!    password, everyone else gets the one answer for a wrong username or password.
//!
//! What it does not do is record anything: the caller starts its session (browser or
//! compatibility) and saves the [`PasswordUpgrade`] in that same unit of work.

use std::{net::IpAddr, time::Duration};

use chrono::{DateTime, Utc};
use portcullis_model::{User, UserPassword};
use portcullis_passwords::{PasswordError, PasswordManager, Verified};
use portcullis_storage::{Repository, RepositoryFactory, StorageError};
use zeroize::Zeroizing;

use crate::rate_limit::Limiters;

/// What a person typed to say who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    /// A localpart (`alice`, `Alice`) or a Matrix ID (`@alice:example.com`).
    Username(String),
    /// An email address, when `account.login_with_email_allowed`.
    Email(String),
}

impl Identifier {
    /// The identifier in the one field of the sign-in form: an address when it has an `@`
    /// that does not start a Matrix ID, a username otherwise.
    #[must_use]
    pub fn from_field(input: &str) -> Self {
        let input = input.trim();
        if input.contains('@') && !input.starts_with('@') {
            Self::Email(input.to_owned())
        } else {
            Self::Username(input.to_owned())
        }
    }
}

/// `alice`, `Alice` or `@alice:server` → `alice`; a Matrix ID of another server → nothing.
#[must_use]
pub fn localpart_of(input: &str, server_name: &str) -> Option<String> {
    let localpart = match input.strip_prefix('@') {
        Some(mxid) => {
            let (localpart, server) = mxid.split_once(':')?;
            if server != server_name {
                return None;
            }
            localpart
        }
        None => input,
    };
    (!localpart.is_empty()).then(|| localpart.to_lowercase())
}

/// Why a password did not sign anyone in.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// No such account, no password on it, or the wrong password: one answer for all three,
    /// so that nobody learns which accounts exist.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The account has no password ([`PasswordSignIn::confirm`] only: a signed-in user may be
    /// told that of their own account).
    #[error("this account has no password")]
    NoPassword,
    /// The right password, but the account is locked.
    #[error("this account is locked")]
    Locked,
    /// The right password, but the account is deactivated.
    #[error("this account is deactivated")]
    Deactivated,
    /// Over the rate limits: try again after `wait`.
    #[error("too many attempts")]
    RateLimited {
        /// How long until the next attempt may be made.
        wait: Duration,
    },
    /// Every password hasher is busy; nothing was checked.
    #[error("every password hasher is busy")]
    Busy,
    /// Local passwords are disabled (`passwords.enabled: false`).
    #[error("passwords are disabled on this server")]
    PasswordsDisabled,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Hashing failed for another reason than a wrong password (a hash of an unknown scheme).
    #[error(transparent)]
    Hashing(PasswordError),
}

impl From<PasswordError> for SignInError {
    fn from(error: PasswordError) -> Self {
        match error {
            PasswordError::Mismatch => Self::InvalidCredentials,
            PasswordError::Busy => Self::Busy,
            PasswordError::Disabled => Self::PasswordsDisabled,
            other => Self::Hashing(other),
        }
    }
}

/// A password hash to replace with one of the current scheme: the password was right, and its
/// hash was made by an older scheme. The old hash stays behind the new one, as MAS keeps it.
#[derive(Debug)]
pub struct PasswordUpgrade {
    version: u16,
    hashed: String,
    replaces: UserPassword,
}

impl PasswordUpgrade {
    /// Stores the new hash for `user`, in the unit of work that records the sign-in.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn save(
        &self,
        repository: &mut dyn Repository,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        repository
            .user_passwords()
            .add(
                user,
                &self.hashed,
                u32::from(self.version),
                Some(&self.replaces),
                now,
            )
            .await
            .map(drop)
    }
}

/// Someone proved with their password who they are.
#[derive(Debug)]
pub struct Authenticated {
    /// Their account, active.
    pub user: User,
    /// A newer hash of the password to save with the session, if the stored one is old.
    pub upgrade: Option<PasswordUpgrade>,
}

/// The parts a password sign-in needs.
pub struct PasswordSignIn<'a> {
    pub repositories: &'a dyn RepositoryFactory,
    pub passwords: &'a PasswordManager,
    pub limiters: &'a Limiters,
    /// The homeserver's name: a Matrix ID of another server names nobody here.
    pub server_name: &'a str,
    /// `account.login_with_email_allowed`: whether an address may name an account.
    pub login_with_email_allowed: bool,
}

impl PasswordSignIn<'_> {
    /// Signs in whoever `identifier` names, if `password` is theirs and their account may
    /// sign in, from `ip` (counted against the rate limits).
    ///
    /// # Errors
    /// See [`SignInError`]; [`SignInError::Locked`] and [`SignInError::Deactivated`] only after
    /// the right password.
    pub async fn sign_in(
        &self,
        ip: Option<IpAddr>,
        identifier: &Identifier,
        password: Zeroizing<String>,
    ) -> Result<Authenticated, SignInError> {
        // During a storm of sign-ins, those the hashing pool cannot take are refused before
        // they cost a database round trip (the pool still decides for those let through).
        if !self.passwords.has_room() {
            return Err(if self.passwords.is_enabled() {
                SignInError::Busy
            } else {
                SignInError::PasswordsDisabled
            });
        }
        let found = self.find(identifier).await?;
        self.limiters
            .password_attempt(ip, found.as_ref().map(|(user, _)| user.id))
            .await
            .map_err(|wait| SignInError::RateLimited { wait })?;
        let Some((user, Some(stored))) = found else {
            return Err(self
                .passwords
                .verify_against_nothing(password)
                .await
                .map_or_else(SignInError::from, |_| SignInError::InvalidCredentials));
        };
        let upgrade = self.verify(&stored, password).await?;
        if user.deactivated_at.is_some() {
            return Err(SignInError::Deactivated);
        }
        if user.locked_at.is_some() {
            return Err(SignInError::Locked);
        }
        Ok(Authenticated { user, upgrade })
    }

    /// Checks that `password` is the signed-in `user`'s own, before a sensitive change of
    /// their account; counted against the rate limits like a sign-in.
    ///
    /// # Errors
    /// See [`SignInError`]; [`SignInError::NoPassword`] when the account has none.
    pub async fn confirm(
        &self,
        ip: Option<IpAddr>,
        user: &User,
        password: Zeroizing<String>,
    ) -> Result<Option<PasswordUpgrade>, SignInError> {
        self.limiters
            .password_attempt(ip, Some(user.id))
            .await
            .map_err(|wait| SignInError::RateLimited { wait })?;
        if !self.passwords.is_enabled() {
            return Err(SignInError::PasswordsDisabled);
        }
        let stored = {
            let mut repository = self.repositories.read_transaction().await?;
            let stored = repository.user_passwords().active(user).await?;
            repository.rollback().await?;
            stored
        };
        let stored = stored.ok_or(SignInError::NoPassword)?;
        self.verify(&stored, password).await
    }

    async fn verify(
        &self,
        stored: &UserPassword,
        password: Zeroizing<String>,
    ) -> Result<Option<PasswordUpgrade>, SignInError> {
        let verified = self
            .passwords
            .verify(
                u16::try_from(stored.version).unwrap_or(u16::MAX),
                &stored.hashed_password,
                password,
            )
            .await?;
        Ok(match verified {
            Verified::Ok => None,
            Verified::OkNeedsUpgrade { version, hashed } => Some(PasswordUpgrade {
                version,
                hashed,
                replaces: stored.clone(),
            }),
        })
    }

    /// The account `identifier` names, with its current password if it has one.
    async fn find(
        &self,
        identifier: &Identifier,
    ) -> Result<Option<(User, Option<UserPassword>)>, StorageError> {
        // Reads that need no common snapshot: on PostgreSQL, each one round trip.
        let mut repository = self.repositories.reader().await?;
        let user = match identifier {
            Identifier::Email(address) if self.login_with_email_allowed => {
                match repository.user_emails().find_by_email(address).await? {
                    Some(email) => repository.users().find_by_id(email.user_id).await?,
                    None => None,
                }
            }
            Identifier::Email(_) => None,
            Identifier::Username(input) => match localpart_of(input.trim(), self.server_name) {
                Some(localpart) => repository.users().find_by_username(&localpart).await?,
                None => None,
            },
        };
        let found = match user {
            Some(user) => {
                let password = repository.user_passwords().active(&user).await?;
                Some((user, password))
            }
            None => None,
        };
        repository.rollback().await?;
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matrix_id_of_this_server_names_its_localpart() {
        assert_eq!(
            localpart_of("@Alice:example.com", "example.com").as_deref(),
            Some("alice")
        );
        assert_eq!(
            localpart_of("alice", "example.com").as_deref(),
            Some("alice")
        );
    }

    #[test]
    fn a_matrix_id_of_another_server_names_nobody() {
        assert_eq!(localpart_of("@alice:evil.example", "example.com"), None);
        assert_eq!(localpart_of("@alice", "example.com"), None);
    }

    #[test]
    fn the_form_field_holds_a_username_or_an_address() {
        assert_eq!(
            Identifier::from_field(" alice "),
            Identifier::Username("alice".to_owned())
        );
        assert_eq!(
            Identifier::from_field("@alice:example.com"),
            Identifier::Username("@alice:example.com".to_owned())
        );
        assert_eq!(
            Identifier::from_field("alice@mail.example"),
            Identifier::Email("alice@mail.example".to_owned())
        );
    }
}
