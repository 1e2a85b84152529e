//! The tokens an operator hands out so that someone may register when
//! `account.registration_token_required` is set.

use chrono::{DateTime, Utc};
use portcullis_model::RegistrationToken;
use portcullis_storage::{Repository, StorageError};
use rand::{
    RngCore,
    distributions::{Alphanumeric, DistString as _},
};

/// The length of a generated token: 20 letters and digits, about 119 bits.
pub const GENERATED_LENGTH: usize = 20;

/// What the operator asks for.
#[derive(Debug, Clone, Default)]
pub struct NewToken<'a> {
    /// The token itself; a random one of [`GENERATED_LENGTH`] letters and digits when `None`.
    pub token: Option<&'a str>,
    /// How many registrations it allows; unlimited when `None`.
    pub usage_limit: Option<u32>,
    /// Until when it is valid; forever when `None`.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a token cannot be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("the token must not be empty")]
    Empty,
    #[error("a usage limit of 0 would make a token nobody can use")]
    ZeroUsageLimit,
    #[error("the expiry is not in the future")]
    ExpiresInThePast,
    #[error("this token already exists")]
    Exists,
}

/// Stores a new token in the caller's unit of work and returns it with its clear value (the
/// only moment the clear value of a generated token is known).
///
/// # Errors
/// Only storage failures; refusals are the inner `Err`.
pub async fn issue(
    repo: &mut dyn Repository,
    rng: &mut (dyn RngCore + Send),
    new: &NewToken<'_>,
    now: DateTime<Utc>,
) -> Result<Result<(RegistrationToken, String), Problem>, StorageError> {
    let token = match new.token {
        Some(token) => {
            let token = token.trim();
            if token.is_empty() {
                return Ok(Err(Problem::Empty));
            }
            token.to_owned()
        }
        None => Alphanumeric.sample_string(rng, GENERATED_LENGTH),
    };
    if new.usage_limit == Some(0) {
        return Ok(Err(Problem::ZeroUsageLimit));
    }
    if new.expires_at.is_some_and(|at| at <= now) {
        return Ok(Err(Problem::ExpiresInThePast));
    }
    match repo
        .registration_tokens()
        .add(&token, new.usage_limit, new.expires_at, now)
        .await
    {
        Ok(stored) => Ok(Ok((stored, token))),
        Err(StorageError::Conflict(_)) => Ok(Err(Problem::Exists)),
        Err(error) => Err(error),
    }
}

/// Changes a token's expiry or usage limit (`None` leaves a field, `Some(None)` clears it);
/// `None` if there is no such token.
///
/// # Errors
/// Storage failures; a usage limit of 0 is the inner `Err`.
pub async fn edit(
    repo: &mut dyn Repository,
    id: ulid::Ulid,
    change: &portcullis_storage::RegistrationTokenChange,
) -> Result<Result<Option<RegistrationToken>, Problem>, StorageError> {
    if change.usage_limit == Some(Some(0)) {
        return Ok(Err(Problem::ZeroUsageLimit));
    }
    Ok(Ok(repo.registration_tokens().update(id, change).await?))
}
