//! Account changes: creating a user, locking, unlocking, deactivating and reactivating them,
//! their password (or giving it up for passkeys), email addresses and display name.
//!
//! The registration pages, the account pages, password recovery and the `mas-cli manage`
//! commands all change accounts through here, so that each change carries what goes with it:
//! the homeserver keeps a copy of the lock, the addresses and the display name, so those changes
//! queue a `provision-user` job in the same unit of work; deactivation queues the job that ends
//! everything the user had; reactivation goes through the homeserver first.

use chrono::{DateTime, Utc};
use portcullis_model::{User, UserEmail};
use portcullis_passwords::{PasswordError, PasswordManager, WeakPassword};
use portcullis_storage::{Repository, StorageError};
use ulid::Ulid;
use zeroize::Zeroizing;

use crate::jobs::{
    deactivate_user::DeactivateUser, provision_user::ProvisionUser, reactivate_user::ReactivateUser,
};

/// A password hashed with the current scheme, ready to be stored.
#[derive(Debug, Clone)]
pub struct HashedPassword {
    /// The scheme version (`passwords.schemes[].version`).
    pub version: u16,
    /// The hash.
    pub hash: String,
}

/// Whether a new password must meet `passwords.minimum_complexity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Complexity {
    /// It must (people choosing their own password).
    Enforce,
    /// It need not (an administrator who says so).
    Ignore,
}

/// Why a new password cannot be set.
#[derive(Debug, thiserror::Error)]
pub enum NewPasswordError {
    /// Below `passwords.minimum_complexity`.
    #[error("{0}")]
    Weak(WeakPassword),
    /// Passwords are disabled, every hasher is busy, or hashing failed.
    #[error(transparent)]
    Hashing(#[from] PasswordError),
}

/// Checks `password` for `username` and hashes it, outside any unit of work (hashing is slow,
/// and on SQLite an open transaction holds the write lock).
///
/// # Errors
/// [`NewPasswordError::Weak`] for a password below the minimum complexity (when enforced),
/// [`NewPasswordError::Hashing`] when it cannot be hashed.
pub async fn hash_new_password(
    passwords: &PasswordManager,
    username: &str,
    password: Zeroizing<String>,
    complexity: Complexity,
) -> Result<HashedPassword, NewPasswordError> {
    if complexity == Complexity::Enforce {
        passwords
            .check_complexity(&password, &[username])
            .map_err(NewPasswordError::Weak)?;
    }
    let (version, hash) = passwords.hash(password).await?;
    Ok(HashedPassword { version, hash })
}

/// Makes `password` the user's password from now on.
///
/// # Errors
/// When storage fails.
pub async fn set_password(
    repo: &mut dyn Repository,
    user: &User,
    password: &HashedPassword,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    repo.user_passwords()
        .add(user, &password.hash, u32::from(password.version), None, now)
        .await?;
    Ok(())
}

/// Why a user may not give up their password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordKept {
    /// Passkey-only accounts are not allowed here
    /// (`account.second_factors.passkey_only_accounts_allowed`).
    NotAllowed,
    /// They have no password.
    NoPassword,
    /// They have no passkey that signs in alone to sign in with instead.
    NoPasskey,
}

/// Whether `user` may give up their password for their passkeys: passkey-only accounts must be
/// `allowed` here, and the user must have a password and a passkey that signs in alone (as
/// `counted` here).
///
/// # Errors
/// When storage fails.
pub async fn may_remove_password(
    repo: &mut dyn Repository,
    user: &User,
    allowed: bool,
    counted: crate::ways_in::Counted,
) -> Result<Result<(), PasswordKept>, StorageError> {
    if !allowed {
        return Ok(Err(PasswordKept::NotAllowed));
    }
    let ways_in = crate::ways_in::ways_in(repo, user, counted).await?;
    if !ways_in.password {
        return Ok(Err(PasswordKept::NoPassword));
    }
    if ways_in.passkeys.is_empty() {
        return Ok(Err(PasswordKept::NoPasskey));
    }
    Ok(Ok(()))
}

/// Removes `user`'s password at their own request (re-authenticated), if
/// [`may_remove_password`]: from now on they sign in with a passkey (or at an upstream
/// provider), and the compatibility login API's `m.login.password` no longer works for them.
///
/// # Errors
/// When storage fails.
pub async fn remove_password(
    repo: &mut dyn Repository,
    user: &User,
    allowed: bool,
    counted: crate::ways_in::Counted,
) -> Result<Result<(), PasswordKept>, StorageError> {
    if let Err(kept) = may_remove_password(repo, user, allowed, counted).await? {
        return Ok(Err(kept));
    }
    repo.user_passwords().remove_all(user).await?;
    Ok(Ok(()))
}

/// A registration token spent by a new account.
#[derive(Debug, Clone, Copy)]
pub enum TokenUse<'a> {
    /// The token as typed.
    Value(&'a str),
    /// The token checked earlier, by id.
    Id(Ulid),
}

/// Everything a new account starts with.
#[derive(Debug, Clone, Default)]
pub struct NewAccount<'a> {
    /// The localpart, already checked.
    pub username: &'a str,
    /// Its first password, if it has one.
    pub password: Option<HashedPassword>,
    /// Its addresses, already verified (or vouched for by an administrator).
    pub emails: &'a [String],
    /// Its display name, kept by the homeserver.
    pub display_name: Option<String>,
    /// Whether it may request admin access.
    pub can_request_admin: bool,
    /// The registration token it spends.
    pub registration_token: Option<TokenUse<'a>>,
}

/// Why an account was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateAccountError {
    /// The username is taken (perhaps since it was checked).
    #[error("the username is already taken")]
    UsernameTaken,
    /// The address belongs to another user.
    #[error("the address {0} is already used by another user")]
    EmailTaken(String),
    /// The registration token is used up, expired or revoked (perhaps since it was checked).
    #[error("the registration token is not valid")]
    TokenNotValid,
    /// Our fault.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Creates the account in `repo`'s unit of work, with its password, addresses and token, and
/// queues its provisioning on the homeserver (which then keeps the display name). The caller
/// rolls back on error.
///
/// # Errors
/// A [`CreateAccountError`] when the name, an address or the token was taken meanwhile.
pub async fn create_user(
    repo: &mut dyn Repository,
    account: &NewAccount<'_>,
    now: DateTime<Utc>,
) -> Result<User, CreateAccountError> {
    let user = match repo.users().add(account.username, now).await {
        Ok(user) => user,
        Err(StorageError::Conflict(_)) => return Err(CreateAccountError::UsernameTaken),
        Err(error) => return Err(error.into()),
    };
    let user = if account.can_request_admin {
        repo.users().set_can_request_admin(user, true).await?
    } else {
        user
    };
    if let Some(password) = &account.password {
        set_password(repo, &user, password, now).await?;
    }
    for email in account.emails {
        match repo.user_emails().add(&user, email, now).await {
            Ok(_) => {}
            Err(StorageError::Conflict(_)) => {
                return Err(CreateAccountError::EmailTaken(email.clone()));
            }
            Err(error) => return Err(error.into()),
        }
    }
    let spent = match account.registration_token {
        None => true,
        Some(TokenUse::Value(token)) => repo
            .registration_tokens()
            .consume(token, now)
            .await?
            .is_some(),
        Some(TokenUse::Id(id)) => repo
            .registration_tokens()
            .consume_by_id(id, now)
            .await?
            .is_some(),
    };
    if !spent {
        return Err(CreateAccountError::TokenNotValid);
    }
    // Through the job queue, so that a homeserver that is down now gets the user when it is
    // back. The display name lives on the homeserver only.
    ProvisionUser::new(user.id)
        .with_display_name(account.display_name.clone())
        .schedule(repo, now)
        .await?;
    Ok(user)
}

/// Locks the user: sign-ins and sessions are refused until unlocked, the sessions themselves
/// are kept. A user locked already keeps their first instant.
///
/// # Errors
/// When storage fails.
pub async fn lock_user(
    repo: &mut dyn Repository,
    user: User,
    now: DateTime<Utc>,
) -> Result<User, StorageError> {
    let user = repo.users().lock(user, now).await?;
    // The homeserver shows the account as locked too.
    ProvisionUser::new(user.id).schedule(repo, now).await?;
    Ok(user)
}

/// Unlocks the user, if locked.
///
/// # Errors
/// When storage fails.
pub async fn unlock_user(
    repo: &mut dyn Repository,
    user: User,
    now: DateTime<Utc>,
) -> Result<User, StorageError> {
    if user.locked_at.is_none() {
        return Ok(user);
    }
    let user = repo.users().unlock(user).await?;
    ProvisionUser::new(user.id).schedule(repo, now).await?;
    Ok(user)
}

/// Deactivates the user, if not deactivated already: from now on nothing of theirs is
/// accepted, and a job ends their sessions, removes their addresses and deactivates them on the
/// homeserver (erasing them there too when `hs_erase`).
///
/// # Errors
/// When storage fails.
pub async fn deactivate_user(
    repo: &mut dyn Repository,
    user: User,
    hs_erase: bool,
    now: DateTime<Utc>,
) -> Result<User, StorageError> {
    if user.deactivated_at.is_some() {
        return Ok(user);
    }
    let user = repo.users().deactivate(user, now).await?;
    DeactivateUser {
        user_id: user.id,
        hs_erase,
    }
    .schedule(repo, now)
    .await?;
    Ok(user)
}

/// Queues the reactivation of a deactivated user: the homeserver first, then here. Returns
/// whether there was anything to do.
///
/// # Errors
/// When storage fails.
pub async fn reactivate_user(
    repo: &mut dyn Repository,
    user: &User,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    if user.deactivated_at.is_none() {
        return Ok(false);
    }
    ReactivateUser { user_id: user.id }
        .schedule(repo, now)
        .await?;
    Ok(true)
}

/// What [`add_email`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddedEmail {
    /// Added.
    Added(UserEmail),
    /// The user had it already.
    AlreadyTheirs(UserEmail),
    /// Another user has it: `user_id` is theirs, for callers allowed to say who.
    InUse {
        /// The owner.
        user_id: Ulid,
    },
}

/// Adds a verified address to the user and pushes the addresses to the homeserver.
///
/// # Errors
/// When storage fails.
pub async fn add_email(
    repo: &mut dyn Repository,
    user: &User,
    address: &str,
    now: DateTime<Utc>,
) -> Result<AddedEmail, StorageError> {
    if let Some(existing) = repo.user_emails().find_by_email(address).await? {
        return Ok(if existing.user_id == user.id {
            AddedEmail::AlreadyTheirs(existing)
        } else {
            AddedEmail::InUse {
                user_id: existing.user_id,
            }
        });
    }
    let added = match repo.user_emails().add(user, address, now).await {
        Ok(added) => added,
        // Another process added it between the check and the insert.
        Err(StorageError::Conflict(_)) => {
            let owner = repo.user_emails().find_by_email(address).await?;
            return Ok(AddedEmail::InUse {
                user_id: owner.map_or(Ulid::nil(), |owner| owner.user_id),
            });
        }
        Err(error) => return Err(error),
    };
    ProvisionUser::new(user.id).schedule(repo, now).await?;
    Ok(AddedEmail::Added(added))
}

/// Removes the user's address `email_id` and pushes the addresses to the homeserver; `false`
/// if the user has no such address.
///
/// # Errors
/// When storage fails.
pub async fn remove_email(
    repo: &mut dyn Repository,
    user: &User,
    email_id: Ulid,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let owned = repo
        .user_emails()
        .list_for_user(user)
        .await?
        .iter()
        .any(|email| email.id == email_id);
    if !owned || !repo.user_emails().remove(email_id).await? {
        return Ok(false);
    }
    ProvisionUser::new(user.id).schedule(repo, now).await?;
    Ok(true)
}

/// Sets the user's display name, which the homeserver keeps: a job sets it there.
///
/// # Errors
/// When storage fails.
pub async fn set_display_name(
    repo: &mut dyn Repository,
    user: &User,
    display_name: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    ProvisionUser::new(user.id)
        .with_display_name(Some(display_name.to_owned()))
        .schedule(repo, now)
        .await?;
    Ok(())
}

/// Why a cross-signing reset was not allowed.
#[derive(Debug, thiserror::Error)]
pub enum CrossSigningResetError {
    /// The user is locked or deactivated.
    #[error("the account is locked or deactivated")]
    Inactive,
    /// The homeserver could not be asked, or refused.
    #[error(transparent)]
    Homeserver(#[from] portcullis_homeserver::HomeserverError),
}

/// Who allowed a cross-signing reset, as the log names them.
#[derive(Debug, Clone, Copy)]
pub enum ResetApprover<'a> {
    /// The user, re-authenticated on the account page in this browser session.
    UserOnAccountPage { browser_session: Ulid },
    /// The user's own token holding the reset scope (a personal session).
    UserToken { session: Ulid },
    /// A caller of the Admin API: its description and session.
    Administrator { caller: &'a str, session: Ulid },
    /// An operator on the command line.
    Operator,
}

impl std::fmt::Display for ResetApprover<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UserOnAccountPage { browser_session } => {
                write!(
                    f,
                    "the user on the account page (browser session {browser_session})"
                )
            }
            Self::UserToken { session } => write!(f, "the user's own token (session {session})"),
            Self::Administrator { caller, session } => {
                write!(f, "the Admin API, {caller} (session {session})")
            }
            Self::Operator => f.write_str("an operator on the command line"),
        }
    }
}

/// Lets the user replace their cross-signing keys without further authentication for a short
/// while (MSC4191's `org.matrix.cross_signing_reset`): the homeserver opens the window. The
/// caller has made sure it is the user who asks (re-authentication on the account page, a
/// token holding the reset scope, an administrator); the log names who approved.
///
/// # Errors
/// A [`CrossSigningResetError`] for an inactive user or a homeserver that did not allow it.
pub async fn allow_cross_signing_reset(
    homeserver: &dyn portcullis_homeserver::HomeserverConnection,
    user: &User,
    approved_by: ResetApprover<'_>,
) -> Result<(), CrossSigningResetError> {
    if !user.is_active() {
        return Err(CrossSigningResetError::Inactive);
    }
    homeserver.allow_cross_signing_reset(&user.username).await?;
    tracing::info!(
        user.id = %user.id,
        user.username = %user.username,
        approved_by = %approved_by,
        "cross-signing reset allowed"
    );
    Ok(())
}
