//! One-shot login tokens an operator issues for a bot (`mas-cli manage issue-login-token`, the
//! Admin API): the bot redeems one at the Matrix login API (`m.login.token`) for its own
//! device-bound tokens, the durable credential it keeps; the login token is dead from that
//! moment, for every server process sharing the database.

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_model::{CompatLoginToken, User};
use portcullis_oauth::token::generate_code;
use portcullis_storage::{Repository, StorageError};
use rand::RngCore;

use crate::compat::is_acceptable_device_id;

/// How long a token lives when the operator says nothing.
pub const DEFAULT_TTL: TimeDelta = TimeDelta::minutes(10);

/// The longest a token may live.
pub const MAX_TTL: TimeDelta = TimeDelta::hours(24);

/// The prefix of issued login tokens, telling them from single sign-on ones in logs and
/// secret scanners.
const PREFIX: &str = "mlt_";

/// Random characters after the prefix.
const RANDOM_LENGTH: usize = 32;

/// Why a token cannot be issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueProblem {
    #[error("the lifetime must be positive and at most 24 hours")]
    Lifetime,
    #[error("`{0}` cannot be a device ID (letters, digits and `-_.=+/`, at most 255 characters)")]
    DeviceId(String),
    #[error("the user is locked or deactivated")]
    UserNotActive,
}

/// Issues a token for `user` (only for `device_id`, if given) living `ttl`; returns it with the
/// token itself, shown once.
///
/// # Errors
/// When storage fails; the request's own problems are the inner `Err`.
pub async fn issue(
    repo: &mut dyn Repository,
    user: &User,
    device_id: Option<&str>,
    ttl: TimeDelta,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<Result<(CompatLoginToken, String), IssueProblem>, StorageError> {
    if ttl <= TimeDelta::zero() || ttl > MAX_TTL {
        return Ok(Err(IssueProblem::Lifetime));
    }
    if let Some(device_id) = device_id
        && !is_acceptable_device_id(device_id)
    {
        return Ok(Err(IssueProblem::DeviceId(device_id.to_owned())));
    }
    if user.locked_at.is_some() || user.deactivated_at.is_some() {
        return Ok(Err(IssueProblem::UserNotActive));
    }
    let token = format!("{PREFIX}{}", generate_code(rng, RANDOM_LENGTH));
    let stored = repo
        .compat_login_tokens()
        .add(user, &token, device_id, now + ttl, now)
        .await?;
    Ok(Ok((stored, token)))
}

/// Why a token cannot be redeemed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No such token (or not an issued one).
    Unknown,
    /// Redeemed before.
    Used,
    Expired,
    /// The token names another device than the login's.
    OtherDevice(String),
}

/// The token `token` and its user, if it can be redeemed at `now` for `device_id` (`None`: the
/// client named no device, and the token's own device, if any, is the one to use). Redeeming
/// it is [`consume`], in the unit of work that starts the session.
///
/// # Errors
/// When storage fails.
pub async fn redeemable(
    repo: &mut dyn Repository,
    token: &str,
    device_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<(CompatLoginToken, User), Refused>, StorageError> {
    let Some(found) = repo.compat_login_tokens().find_by_token(token).await? else {
        return Ok(Err(Refused::Unknown));
    };
    if found.consumed_at.is_some() {
        return Ok(Err(Refused::Used));
    }
    if !found.is_usable(now) {
        return Ok(Err(Refused::Expired));
    }
    if let (Some(bound), Some(asked)) = (&found.device_id, device_id)
        && bound != asked
    {
        return Ok(Err(Refused::OtherDevice(bound.clone())));
    }
    let Some(user) = repo.users().find_by_id(found.user_id).await? else {
        return Ok(Err(Refused::Unknown));
    };
    Ok(Ok((found, user)))
}

/// Redeems `token` for the session `session_id` just started, in the same unit of work; `false`
/// when another login took it first (the caller rolls back).
///
/// # Errors
/// When storage fails.
pub async fn consume(
    repo: &mut dyn Repository,
    token: &CompatLoginToken,
    session_id: ulid::Ulid,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    Ok(repo
        .compat_login_tokens()
        .consume(token.id, session_id, now)
        .await?
        .is_some())
}
