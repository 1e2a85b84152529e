//! Password recovery: a ticket for the active user who owns an address, and a new password
//! through a ticket that is still usable, which signs the user in.
//!
//! The email with the link is the caller's to render (in the reader's language) and queue in
//! the same unit of work as the ticket.

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_model::{BrowserSession, User, UserEmail, UserRecoveryTicket};
use portcullis_storage::{Repository, RepositoryFactory, StorageError};
use rand::{Rng as _, RngCore, distributions::Alphanumeric};

use crate::account::{self, HashedPassword};

/// How long a recovery link works.
pub const TICKET_TTL: TimeDelta = TimeDelta::minutes(10);

/// How many characters a ticket has.
const TICKET_LENGTH: usize = 32;

/// A fresh ticket: 32 random letters and digits.
fn new_ticket(rng: &mut (dyn RngCore + Send)) -> String {
    (0..TICKET_LENGTH)
        .map(|_| char::from(rng.sample(Alphanumeric)))
        .collect()
}

/// A ticket just made, for the email that carries it.
#[derive(Debug)]
pub struct Ticket {
    /// The user it recovers.
    pub user: User,
    /// The address it goes to.
    pub email: UserEmail,
    /// The ticket, in clear, for the link.
    pub ticket: String,
}

/// Makes a ticket for the active user who has `address`, in `repo`'s unit of work; `None` when
/// no active user has it (the caller answers the same either way).
///
/// # Errors
/// When storage fails.
pub async fn start(
    repo: &mut dyn Repository,
    address: &str,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<Option<Ticket>, StorageError> {
    let Some(email) = repo.user_emails().find_by_email(address).await? else {
        return Ok(None);
    };
    let Some(user) = repo.users().find_by_id(email.user_id).await? else {
        return Ok(None);
    };
    if !user.is_active() {
        return Ok(None);
    }
    let ticket = new_ticket(rng);
    repo.user_recovery_tickets()
        .add(&user, &email.email, &ticket, now, TICKET_TTL)
        .await?;
    Ok(Some(Ticket {
        user,
        email,
        ticket,
    }))
}

/// What a link's ticket is worth.
#[derive(Debug)]
pub enum Lookup {
    /// Usable, for this active user.
    Usable(UserRecoveryTicket, User),
    /// Known, but expired, used, or its user is no longer active.
    Expired,
    /// Unknown.
    Unknown,
}

/// The ticket of a link, and whether it can still be used.
///
/// # Errors
/// When storage fails.
pub async fn find(
    repositories: &dyn RepositoryFactory,
    ticket: &str,
    now: DateTime<Utc>,
) -> Result<Lookup, StorageError> {
    if ticket.is_empty() {
        return Ok(Lookup::Unknown);
    }
    let mut repository = repositories.read_transaction().await?;
    let found = repository
        .user_recovery_tickets()
        .find_by_ticket(ticket)
        .await?;
    let user = match &found {
        Some(found) => repository.users().find_by_id(found.user_id).await?,
        None => None,
    };
    repository.rollback().await?;
    Ok(match found.zip(user) {
        Some((found, user)) if found.is_usable(now) && user.is_active() => {
            Lookup::Usable(found, user)
        }
        Some(_) => Lookup::Expired,
        None => Lookup::Unknown,
    })
}

/// Spends `ticket` on `password` (hashed outside any unit of work) and signs its user in with
/// a new browser session, unless their account has a second factor or must add one
/// (`requirement`): a recovery link proves the email address, not the second factor, so the
/// session is then left to the second step of a sign-in. `None` if the ticket was spent
/// meanwhile or its user is no longer active.
///
/// # Errors
/// When storage fails.
pub async fn complete(
    repositories: &dyn RepositoryFactory,
    ticket: &str,
    password: &HashedPassword,
    user_agent: Option<&str>,
    requirement: portcullis_config::SecondFactorRequirement,
    now: DateTime<Utc>,
) -> Result<Option<(User, Option<BrowserSession>)>, StorageError> {
    let mut repository = repositories.transaction().await?;
    let Some(used) = repository
        .user_recovery_tickets()
        .consume(ticket, now)
        .await?
    else {
        repository.rollback().await?;
        return Ok(None);
    };
    let user = match repository.users().find_by_id(used.user_id).await? {
        Some(user) if user.is_active() => user,
        _ => {
            repository.rollback().await?;
            return Ok(None);
        }
    };
    account::set_password(&mut *repository, &user, password, now).await?;
    let factors = crate::second_factor::factors_of(&mut *repository, &user).await?;
    let browser_session = if factors.any() || crate::second_factor::required_for(requirement, &user)
    {
        None
    } else {
        Some(
            crate::sessions::start_browser_session(
                &mut *repository,
                &user,
                portcullis_model::AuthenticationKind::Password,
                user_agent,
                now,
            )
            .await?,
        )
    };
    repository.commit().await?;
    Ok(Some((user, browser_session)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_32_random_letters_and_digits() {
        let mut rng = rand::rngs::OsRng;
        let ticket = new_ticket(&mut rng);
        assert_eq!(ticket.len(), 32);
        assert!(ticket.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(ticket, new_ticket(&mut rng));
    }
}
