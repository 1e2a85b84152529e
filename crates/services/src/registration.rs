//! The rules of registering with a password: what the form must hold, and whether the name,
//! the address and the registration token are still free.
//!
//! The page shows each [`Problem`] next to its field, in the reader's language; creating the
//! account itself is [`crate::account::create_user`].

use chrono::{DateTime, Utc};
use portcullis_email::InvalidAddress;
use portcullis_homeserver::{HomeserverConnection, LocalpartAvailability};
use portcullis_model::{
    AuthenticationKind, BrowserSession, Localpart, LocalpartError, User, UserRegistration,
};
use portcullis_passwords::{PasswordManager, WeakPassword};
use portcullis_storage::{NewUserRegistration, Repository, RepositoryFactory, StorageError};
use ulid::Ulid;

use crate::{
    account::{self, CreateAccountError, HashedPassword, NewAccount, TokenUse},
    email_codes::{self, Refused},
    sessions::start_browser_session,
};

/// The longest display name, in characters, as MAS and Synapse allow.
pub const MAX_DISPLAY_NAME_CHARS: usize = 256;

/// What the registration settings require of the form.
#[derive(Debug, Clone)]
pub struct Requirements<'a> {
    /// The homeserver's `server_name`, for Matrix IDs.
    pub server_name: &'a str,
    /// Terms of service must be accepted (`branding.tos_uri` is set).
    pub terms: bool,
    /// An email address is required (`account.password_registration_email_required`).
    pub email: bool,
    /// A registration token is required (`account.registration_token_required`).
    pub token: bool,
}

/// The form, as typed.
#[derive(Debug, Clone, Copy)]
pub struct Application<'a> {
    /// The username.
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
    /// The password again.
    pub password_confirm: &'a str,
    /// The display name (blank: none).
    pub display_name: &'a str,
    /// The email address (blank: none).
    pub email: &'a str,
    /// The registration token (blank: none).
    pub token: &'a str,
    /// Whether the terms box was ticked.
    pub terms_accepted: bool,
}

/// A form that passed every check that needs nothing but the form.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The username.
    pub localpart: Localpart,
    /// The display name, if any.
    pub display_name: Option<String>,
    /// The registration token, when one is required.
    pub token: Option<String>,
    /// The email address, to verify before the account is made.
    pub email: Option<String>,
}

/// What is wrong with a form.
#[derive(Debug)]
pub enum Problem {
    /// The username breaks a rule.
    Username(LocalpartError),
    /// No password.
    PasswordNeeded,
    /// The two passwords differ.
    PasswordMismatch,
    /// The display name breaks a rule.
    DisplayName(DisplayNameProblem),
    /// The password is below `passwords.minimum_complexity`.
    WeakPassword(WeakPassword),
    /// The terms were not accepted.
    TermsNotAccepted,
    /// No address, but one is required.
    EmailNeeded,
    /// The address is not one.
    EmailInvalid(InvalidAddress),
    /// No token, but one is required.
    TokenNeeded,
}

/// Why a display name cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayNameProblem {
    /// Longer than [`MAX_DISPLAY_NAME_CHARS`].
    TooLong,
    /// It holds a control character.
    Control,
}

/// Checks a display name (already trimmed) against the rules the homeserver applies too.
///
/// # Errors
/// The [`DisplayNameProblem`].
pub fn check_display_name(name: &str) -> Result<(), DisplayNameProblem> {
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(DisplayNameProblem::TooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(DisplayNameProblem::Control);
    }
    Ok(())
}

/// Checks the form, in the order the page shows problems: username, passwords, display name,
/// password strength (against the name, display name and address too), terms, address, token.
///
/// # Errors
/// The first [`Problem`].
pub fn check(
    requirements: &Requirements<'_>,
    passwords: &PasswordManager,
    form: &Application<'_>,
) -> Result<Checked, Problem> {
    let localpart = Localpart::parse(form.username.trim(), requirements.server_name)
        .map_err(Problem::Username)?;
    if form.password.is_empty() {
        return Err(Problem::PasswordNeeded);
    }
    if form.password != form.password_confirm {
        return Err(Problem::PasswordMismatch);
    }
    let display_name = form.display_name.trim();
    let display_name = (!display_name.is_empty()).then(|| display_name.to_owned());
    if let Some(name) = &display_name {
        check_display_name(name).map_err(Problem::DisplayName)?;
    }
    let email = form.email.trim();
    let mut user_inputs = vec![localpart.as_str()];
    user_inputs.extend(display_name.as_deref());
    if !email.is_empty() {
        user_inputs.push(email);
    }
    passwords
        .check_complexity(form.password, &user_inputs)
        .map_err(Problem::WeakPassword)?;
    if requirements.terms && !form.terms_accepted {
        return Err(Problem::TermsNotAccepted);
    }
    let email = if email.is_empty() {
        if requirements.email {
            return Err(Problem::EmailNeeded);
        }
        None
    } else {
        let address = portcullis_email::parse_address(email).map_err(Problem::EmailInvalid)?;
        Some(address.to_string())
    };
    let token = required_token(requirements.token, form.token)?;
    Ok(Checked {
        localpart,
        display_name,
        token,
        email,
    })
}

/// The registration token typed, when one is `required`.
///
/// # Errors
/// [`Problem::TokenNeeded`] when it is required and blank.
pub fn required_token(required: bool, typed: &str) -> Result<Option<String>, Problem> {
    if !required {
        return Ok(None);
    }
    let token = typed.trim();
    if token.is_empty() {
        return Err(Problem::TokenNeeded);
    }
    Ok(Some(token.to_owned()))
}

/// Why a checked form cannot register now.
#[derive(Debug)]
pub enum Unavailable {
    /// The token is unknown, used up, expired or revoked.
    TokenNotValid,
    /// The username is taken, here or on the homeserver.
    UsernameTaken,
    /// The address belongs to another user.
    EmailInUse,
    /// The homeserver refuses the username, and says why.
    Rejected(String),
    /// The username is reserved on the homeserver (an application service's namespace).
    Reserved(String),
    /// The homeserver cannot be asked; `retryable` when trying again later may help.
    HomeserverUnreachable {
        /// Whether a later attempt may succeed.
        retryable: bool,
    },
}

/// Whether the token is valid, and the username and address free here and on the homeserver.
/// The homeserver is asked outside any unit of work (it may be slow).
///
/// # Errors
/// When storage fails.
pub async fn check_availability(
    repositories: &dyn RepositoryFactory,
    homeserver: &dyn HomeserverConnection,
    checked: &Checked,
    now: DateTime<Utc>,
) -> Result<Result<(), Unavailable>, StorageError> {
    let mut repository = repositories.read_transaction().await?;
    if let Some(token) = &checked.token {
        let found = repository
            .registration_tokens()
            .find_by_token(token)
            .await?;
        if !found.is_some_and(|token| token.is_valid(now)) {
            repository.rollback().await?;
            return Ok(Err(Unavailable::TokenNotValid));
        }
    }
    let taken_here = repository
        .users()
        .find_by_username(checked.localpart.as_str())
        .await?
        .is_some();
    let email_used = match &checked.email {
        Some(email) => repository
            .user_emails()
            .find_by_email(email)
            .await?
            .is_some(),
        None => false,
    };
    repository.rollback().await?;
    if taken_here {
        return Ok(Err(Unavailable::UsernameTaken));
    }
    if email_used {
        return Ok(Err(Unavailable::EmailInUse));
    }
    Ok(
        match homeserver
            .is_localpart_available(checked.localpart.as_str())
            .await
        {
            Ok(LocalpartAvailability::Available) => Ok(()),
            Ok(LocalpartAvailability::InUse) => Err(Unavailable::UsernameTaken),
            Ok(LocalpartAvailability::Invalid { reason }) => Err(Unavailable::Rejected(reason)),
            Ok(LocalpartAvailability::Exclusive { reason }) => Err(Unavailable::Reserved(reason)),
            Err(error) => {
                tracing::warn!(%error, "cannot check a username with the homeserver");
                Err(Unavailable::HomeserverUnreachable {
                    retryable: error.is_retryable(),
                })
            }
        },
    )
}

/// The registration `id` (as written in a URL), if it is not complete yet (read on its own).
///
/// # Errors
/// When storage fails.
pub async fn pending(
    repositories: &dyn RepositoryFactory,
    id: &str,
) -> Result<Option<UserRegistration>, StorageError> {
    let Ok(id) = id.parse::<Ulid>() else {
        return Ok(None);
    };
    let mut repo = repositories.read_transaction().await?;
    let found = repo.user_registrations().find(id).await?;
    repo.rollback().await?;
    Ok(found.filter(|registration| registration.completed_at.is_none()))
}

/// Where a new account comes from: who it is for, and the circumstances of its creation.
#[derive(Debug, Clone, Copy)]
pub struct Circumstances<'a> {
    /// The terms of service the form made the user accept, if there are some.
    pub terms_uri: Option<&'a str>,
    /// The browser's `User-Agent`, for the browser session that starts.
    pub user_agent: Option<&'a str>,
    /// The instant.
    pub now: DateTime<Utc>,
    /// The new user must prove a second factor before any session starts
    /// (`account.second_factors.required: everyone`; for a registration through an upstream
    /// provider, one that does not vouch for several factors): the account is made without a
    /// session, and the caller sends the user to the second step, where they add one.
    pub second_factor_first: bool,
}

/// Why an account could not be made after all: something changed since the form was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The registration was completed already (another tab, a double submit).
    AlreadyFinished,
    /// The username was taken meanwhile.
    UsernameTaken,
    /// The address was taken meanwhile.
    EmailTaken,
    /// The registration token was used up, expired or revoked meanwhile.
    TokenNotValid,
}

/// What became of a registration's last step.
#[derive(Debug)]
pub enum Finished {
    /// The account exists, and the user is signed in (without a session when a second factor
    /// comes first: [`Circumstances::second_factor_first`]).
    Created(User, Option<BrowserSession>),
    /// The code was refused; the attempt is counted once the unit of work is committed.
    Refused(Refused),
    /// The account could not be made; nothing was changed.
    Conflict(Conflict),
}

/// Makes the account of a checked form without an address to verify, with its `hashed`
/// password, records the accepted terms and signs the user in (unless a second factor comes
/// first), in `repo`'s unit of work (which the caller rolls back on a conflict).
///
/// # Errors
/// When storage fails.
pub async fn register(
    repo: &mut dyn Repository,
    checked: &Checked,
    hashed: HashedPassword,
    circumstances: Circumstances<'_>,
) -> Result<Result<(User, Option<BrowserSession>), Conflict>, StorageError> {
    let account = NewAccount {
        username: checked.localpart.as_str(),
        password: Some(hashed),
        display_name: checked.display_name.clone(),
        registration_token: checked.token.as_deref().map(TokenUse::Value),
        ..NewAccount::default()
    };
    create_signed_in(repo, &account, AuthenticationKind::Password, circumstances).await
}

/// Keeps a checked form with an address as a registration waiting for the code of
/// `email_authentication_id`; `None` when its registration token is no longer valid.
///
/// # Errors
/// When storage fails.
pub async fn start(
    repo: &mut dyn Repository,
    checked: &Checked,
    email: &str,
    (version, hashed): (u16, &str),
    email_authentication_id: Ulid,
    continuation: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<UserRegistration>, StorageError> {
    let registration_token_id = match &checked.token {
        Some(token) => match repo.registration_tokens().find_by_token(token).await? {
            Some(found) if found.is_valid(now) => Some(found.id),
            _ => return Ok(None),
        },
        None => None,
    };
    let registration = repo
        .user_registrations()
        .add(
            NewUserRegistration {
                username: checked.localpart.as_str(),
                hashed_password: hashed,
                password_version: u32::from(version),
                display_name: checked.display_name.as_deref(),
                email,
                registration_token_id,
                continuation,
                email_authentication_id,
            },
            now,
        )
        .await?;
    Ok(Some(registration))
}

/// Checks `code` for a waiting registration and, if right, makes the account with its
/// verified address and signs the user in, in `repo`'s unit of work. On [`Finished::Refused`]
/// the caller commits (the attempt counts); on [`Finished::Conflict`] it rolls back.
///
/// # Errors
/// When storage fails, or the stored password version is out of range.
pub async fn finish(
    repo: &mut dyn Repository,
    registration: &UserRegistration,
    code: &str,
    circumstances: Circumstances<'_>,
) -> Result<Finished, StorageError> {
    let now = circumstances.now;
    if let Err(refused) =
        email_codes::check(repo, registration.email_authentication_id, code, now).await?
    {
        return Ok(Finished::Refused(refused));
    }
    if repo
        .user_registrations()
        .complete(registration.id, now)
        .await?
        .is_none()
    {
        return Ok(Finished::Conflict(Conflict::AlreadyFinished));
    }
    if repo
        .user_emails()
        .find_by_email(&registration.email)
        .await?
        .is_some()
    {
        return Ok(Finished::Conflict(Conflict::EmailTaken));
    }
    let emails = [registration.email.clone()];
    let account = NewAccount {
        username: &registration.username,
        password: Some(HashedPassword {
            version: u16::try_from(registration.password_version)
                .map_err(|_| StorageError::InvalidData("a password version out of range".into()))?,
            hash: registration.hashed_password.clone(),
        }),
        emails: &emails,
        display_name: registration.display_name.clone(),
        registration_token: registration.registration_token_id.map(TokenUse::Id),
        ..NewAccount::default()
    };
    Ok(
        match create_signed_in(repo, &account, AuthenticationKind::Password, circumstances).await? {
            Ok((user, browser_session)) => Finished::Created(user, browser_session),
            Err(conflict) => Finished::Conflict(conflict),
        },
    )
}

/// Creates `account`, records the accepted terms and starts a browser session authenticated
/// `how`, unless a second factor comes first ([`Circumstances::second_factor_first`]).
pub(crate) async fn create_signed_in(
    repo: &mut dyn Repository,
    account: &NewAccount<'_>,
    how: AuthenticationKind,
    circumstances: Circumstances<'_>,
) -> Result<Result<(User, Option<BrowserSession>), Conflict>, StorageError> {
    let now = circumstances.now;
    let user = match account::create_user(repo, account, now).await {
        Ok(user) => user,
        Err(CreateAccountError::Storage(error)) => return Err(error),
        Err(CreateAccountError::UsernameTaken) => return Ok(Err(Conflict::UsernameTaken)),
        Err(CreateAccountError::EmailTaken(_)) => return Ok(Err(Conflict::EmailTaken)),
        Err(CreateAccountError::TokenNotValid) => return Ok(Err(Conflict::TokenNotValid)),
    };
    // The form refused to go on without the terms accepted.
    if let Some(terms_uri) = circumstances.terms_uri {
        repo.user_terms().accept(&user, terms_uri, now).await?;
    }
    if circumstances.second_factor_first {
        return Ok(Ok((user, None)));
    }
    let browser_session =
        start_browser_session(repo, &user, how, circumstances.user_agent, now).await?;
    Ok(Ok((user, Some(browser_session))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_display_name_is_at_most_256_characters_without_control_characters() {
        assert_eq!(check_display_name(&"é".repeat(256)), Ok(()));
        assert_eq!(
            check_display_name(&"é".repeat(257)),
            Err(DisplayNameProblem::TooLong)
        );
        assert_eq!(
            check_display_name("Alice\u{7}"),
            Err(DisplayNameProblem::Control)
        );
        assert_eq!(check_display_name(""), Ok(()));
    }
}
