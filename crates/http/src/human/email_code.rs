//! The 6-digit codes that verify email addresses, shared by registration and the account
//! pages: made, stored (as a hash) and queued for sending in the caller's transaction.

use chrono::TimeDelta;
use portcullis_model::UserEmailAuthentication;
use portcullis_storage::{Repository, StorageError};
use portcullis_templates::emails::VerificationEmail;
use rand::Rng as _;
use ulid::Ulid;

use crate::{AppState, emails::QueueEmailError, pages::tr};

/// How long a code is accepted, as in MAS.
pub const CODE_TTL: TimeDelta = TimeDelta::minutes(5);

/// How many codes may be submitted for one email, right or wrong.
pub const MAX_ATTEMPTS: u32 = 5;

/// A fresh code: six random digits.
fn new_code(state: &AppState) -> String {
    format!("{:06}", state.rng().gen_range(0..1_000_000u32))
}

/// Stores a new code for `email` (for `user_id` when a user adds an address) and queues the
/// email that carries it, in the language of the request, in `repo`'s transaction.
pub async fn send(
    state: &AppState,
    repo: &mut dyn Repository,
    email: &str,
    user_id: Option<Ulid>,
) -> Result<UserEmailAuthentication, QueueEmailError> {
    let now = state.now();
    let code = new_code(state);
    let authentication = repo
        .user_email_authentications()
        .add(email, &code, user_id, now, CODE_TTL)
        .await?;
    let message = VerificationEmail {
        email: email.to_owned(),
        code,
    };
    state.queue_email(repo, email, &message).await?;
    Ok(authentication)
}

/// Why a code was refused, in words for the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Past [`CODE_TTL`].
    Expired,
    /// More than [`MAX_ATTEMPTS`] codes given.
    TooManyAttempts,
    /// Not the code that was sent.
    Wrong,
}

impl Refused {
    /// The sentence shown above the form, in the language of the request.
    #[must_use]
    pub fn message(self) -> String {
        tr(
            match self {
                Self::Expired => "email_code.error.expired",
                Self::TooManyAttempts => "email_code.error.too_many",
                Self::Wrong => "email_code.error.wrong",
            },
            &[],
        )
    }

    /// The status of the form shown again.
    #[must_use]
    pub fn status(self) -> axum::http::StatusCode {
        match self {
            Self::Expired => axum::http::StatusCode::GONE,
            Self::TooManyAttempts => axum::http::StatusCode::TOO_MANY_REQUESTS,
            Self::Wrong => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// Checks `code` against the authentication `id` in `repo`'s transaction: counts the attempt
/// and completes the authentication if the code is right. On a refusal the caller commits, so
/// that the attempt stays counted.
pub async fn check(
    state: &AppState,
    repo: &mut dyn Repository,
    id: Ulid,
    code: &str,
) -> Result<Result<UserEmailAuthentication, Refused>, StorageError> {
    let now = state.now();
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
