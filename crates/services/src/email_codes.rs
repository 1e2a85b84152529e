//! Verification codes sent by email: six digits, valid for a few minutes, a few attempts each.
//! Registration and the addition of an address both use them; the email itself is the
//! caller's to render in the reader's language and queue in the same unit of work.

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_model::UserEmailAuthentication;
use portcullis_storage::{Repository, RepositoryFactory, StorageError};
use rand::{Rng as _, RngCore};
use ulid::Ulid;

/// How long a code is accepted, as in MAS.
pub const CODE_TTL: TimeDelta = TimeDelta::minutes(5);

/// How many codes may be submitted for one email, right or wrong.
pub const MAX_ATTEMPTS: u32 = 5;

/// A fresh code: six random digits.
fn new_code(rng: &mut (dyn RngCore + Send)) -> String {
    format!("{:06}", rng.gen_range(0..1_000_000u32))
}

/// Stores a new code for `email` (for `user_id` when a user adds an address); returns the
/// authentication and the code in clear, for the email.
///
/// # Errors
/// When storage fails.
pub async fn issue(
    repo: &mut dyn Repository,
    email: &str,
    user_id: Option<Ulid>,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<(UserEmailAuthentication, String), StorageError> {
    let code = new_code(rng);
    let authentication = repo
        .user_email_authentications()
        .add(email, &code, user_id, now, CODE_TTL)
        .await?;
    Ok((authentication, code))
}

/// The authentication `id` (as written in a URL) that `user_id` started and has not completed
/// yet (read on its own); `None` for any other, so that no one learns of another's.
///
/// # Errors
/// When storage fails.
pub async fn pending_for_user(
    repositories: &dyn RepositoryFactory,
    id: &str,
    user_id: Ulid,
) -> Result<Option<UserEmailAuthentication>, StorageError> {
    let Ok(id) = id.parse::<Ulid>() else {
        return Ok(None);
    };
    let mut repo = repositories.read_transaction().await?;
    let found = repo.user_email_authentications().find(id).await?;
    repo.rollback().await?;
    Ok(found.filter(|found| found.user_id == Some(user_id) && found.completed_at.is_none()))
}

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Past [`CODE_TTL`], or the authentication is complete or unknown.
    Expired,
    /// More than [`MAX_ATTEMPTS`] codes given.
    TooManyAttempts,
    /// Not the code that was sent.
    Wrong,
}

/// Checks `code` against the authentication `id` in `repo`'s unit of work: counts the attempt
/// and completes the authentication if the code is right (spaces ignored). On a refusal the
/// caller commits, so that the attempt stays counted.
///
/// # Errors
/// When storage fails.
pub async fn check(
    repo: &mut dyn Repository,
    id: Ulid,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Result<UserEmailAuthentication, Refused>, StorageError> {
    let Some(authentication) = repo.user_email_authentications().find(id).await? else {
        return Ok(Err(Refused::Expired));
    };
    if authentication.completed_at.is_some() || authentication.expires_at <= now {
        return Ok(Err(Refused::Expired));
    }
    let attempts = repo
        .user_email_authentications()
        .record_attempt(id, now)
        .await?
        .unwrap_or(u32::MAX);
    if attempts > MAX_ATTEMPTS {
        return Ok(Err(Refused::TooManyAttempts));
    }
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    Ok(repo
        .user_email_authentications()
        .complete(id, &code, MAX_ATTEMPTS, now)
        .await?
        .ok_or(Refused::Wrong))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        let mut rng = rand::rngs::OsRng;
        for _ in 0..100 {
            let code = new_code(&mut rng);
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        }
    }
}
