//! Second factors: a TOTP authenticator (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps, one step
//! of drift either way), passkeys ([`crate::passkey`]) and single-use recovery codes for when
//! they are lost.
//!
//! The secret is stored encrypted with `secrets.encryption`; a code is accepted once (the step
//! it was for is recorded, and no code of that step or an earlier one is accepted again);
//! recovery codes are stored hashed and shown once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};
use portcullis_config::SecondFactorRequirement;
use portcullis_keys::Encrypter;
use portcullis_model::{AuthenticationKind, User, UserPasskey};
use portcullis_storage::{Repository, RepositoryFactory, StorageError};
use rand::{Rng as _, RngCore};
use subtle::ConstantTimeEq as _;

/// Digits of a code.
pub const DIGITS: usize = 6;

/// Seconds of a time step.
pub const PERIOD: u64 = 30;

/// Bytes of a secret: 160 bits, as RFC 4226 §4 recommends.
pub const SECRET_BYTES: usize = 20;

/// How many recovery codes a user gets at once.
pub const RECOVERY_CODES: usize = 10;

/// The letters of recovery codes: lowercase letters and digits without the ones easy to
/// confuse (`0`/`o`, `1`/`l`/`i`). Twelve of them carry 60 bits.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// The time step of `now`.
#[must_use]
pub fn step_at(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or_default() / PERIOD
}

/// The code of `secret` for time step `step` (RFC 4226 §5.3, with the step as the counter).
#[must_use]
pub fn code_at(secret: &[u8], step: u64) -> String {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        // HMAC takes keys of any length: this cannot happen.
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let truncated = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", truncated % 1_000_000)
}

/// The step among the current one and one either side (RFC 6238 §5.2: clocks drift, codes
/// take time to type) whose code is `code` (spaces ignored), if any.
#[must_use]
pub fn matching_step(secret: &[u8], code: &str, now: DateTime<Utc>) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_at(now);
    [current.saturating_sub(1), current, current + 1]
        .into_iter()
        .find(|step| bool::from(code_at(secret, *step).as_bytes().ct_eq(code.as_bytes())))
}

/// What a user adds to their authenticator app.
#[derive(Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// The secret in base32, for typing it in.
    pub secret: String,
    /// The `otpauth://` URI, for the QR code.
    pub uri: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment").finish_non_exhaustive()
    }
}

/// The `otpauth://totp/` URI of `secret` (base32) for `account`, labelled with `issuer` (the
/// service's name), as authenticator apps read it from a QR code.
#[must_use]
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let mut uri = url::Url::parse("otpauth://totp/").unwrap_or_else(|_| unreachable_url());
    uri.set_path(&format!("{issuer}:{account}"));
    uri.query_pairs_mut()
        .append_pair("secret", secret)
        .append_pair("issuer", issuer)
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", "6")
        .append_pair("period", "30");
    uri.to_string()
}

/// A URL that parses, for the branch that cannot happen.
fn unreachable_url() -> url::Url {
    url::Url::from_directory_path("/").unwrap_or_else(|()| unreachable!("`/` is a directory"))
}

/// Starts (or restarts) the enrolment of `user`: a fresh secret, stored encrypted and
/// unconfirmed; `None` when the user has a confirmed authenticator already.
///
/// # Errors
/// When storage fails.
pub async fn start_enrolment(
    repo: &mut dyn Repository,
    encrypter: &Encrypter,
    user: &User,
    (issuer, account): (&str, &str),
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<Option<Enrolment>, StorageError> {
    let mut secret = [0u8; SECRET_BYTES];
    rng.fill_bytes(&mut secret);
    let started = repo
        .user_totp()
        .start(user, &encrypter.encrypt(&secret), now)
        .await?;
    Ok(started.map(|_| {
        let secret = data_encoding::BASE32_NOPAD.encode(&secret);
        Enrolment {
            uri: otpauth_uri(issuer, account, &secret),
            secret,
        }
    }))
}

/// The enrolment of `user` that waits for its first code, to show again (the page reloaded,
/// or the user came back to it); `None` when there is none.
///
/// # Errors
/// When storage fails, or the stored secret does not decrypt.
pub async fn pending_enrolment(
    repo: &mut dyn Repository,
    encrypter: &Encrypter,
    user: &User,
    (issuer, account): (&str, &str),
) -> Result<Option<Enrolment>, StorageError> {
    Ok(secret_of(repo, encrypter, user, false)
        .await?
        .map(|secret| {
            let secret = data_encoding::BASE32_NOPAD.encode(&secret);
            Enrolment {
                uri: otpauth_uri(issuer, account, &secret),
                secret,
            }
        }))
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The user has no authenticator (confirmed, for a sign-in; pending, for a confirmation).
    NoAuthenticator,
    /// Not a code of the current time (or one step either side).
    Wrong,
    /// A code that was accepted already.
    Replayed,
}

/// The secret of `user`'s authenticator, decrypted; `confirmed` says which kind is wanted.
async fn secret_of(
    repo: &mut dyn Repository,
    encrypter: &Encrypter,
    user: &User,
    confirmed: bool,
) -> Result<Option<Vec<u8>>, StorageError> {
    let Some(totp) = repo.user_totp().find(user).await? else {
        return Ok(None);
    };
    if totp.confirmed_at.is_some() != confirmed {
        return Ok(None);
    }
    encrypter
        .decrypt(&totp.encrypted_secret)
        .map(Some)
        .map_err(|error| StorageError::InvalidData(format!("a TOTP secret: {error}")))
}

/// Confirms the enrolment of `user` with a first `code`, and gives them their recovery codes
/// (in clear, to show once).
///
/// # Errors
/// When storage fails, or the stored secret does not decrypt.
pub async fn confirm_enrolment(
    repo: &mut dyn Repository,
    encrypter: &Encrypter,
    user: &User,
    code: &str,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<Result<Vec<String>, Refused>, StorageError> {
    let Some(secret) = secret_of(repo, encrypter, user, false).await? else {
        return Ok(Err(Refused::NoAuthenticator));
    };
    let Some(step) = matching_step(&secret, code, now) else {
        return Ok(Err(Refused::Wrong));
    };
    if !repo.user_totp().confirm(user, step, now).await? {
        return Ok(Err(Refused::NoAuthenticator));
    }
    Ok(Ok(new_recovery_codes(repo, user, rng, now).await?))
}

/// Adds the passkey `user` created (the browser's `answer`), named `name`, as a second factor:
/// the passkey, and, for the first second factor of an account, its recovery codes, in clear to
/// show once (none when the user has unused ones already).
///
/// # Errors
/// When storage fails.
pub async fn enrol_passkey(
    repo: &mut dyn Repository,
    party: &crate::passkey::RelyingParty,
    user: &User,
    (name, answer): (&str, &str),
    (rng, now): (&mut (dyn RngCore + Send), DateTime<Utc>),
) -> Result<Result<(UserPasskey, Vec<String>), crate::passkey::Refused>, StorageError> {
    let had_codes = repo.user_recovery_codes().count_unused(user).await? > 0;
    let passkey =
        match crate::passkey::finish_registration(repo, party, user, (name, answer), now).await? {
            Ok(passkey) => passkey,
            Err(refused) => return Ok(Err(refused)),
        };
    if had_codes {
        return Ok(Ok((passkey, Vec::new())));
    }
    let codes = new_recovery_codes(repo, user, rng, now).await?;
    Ok(Ok((passkey, codes)))
}

/// Checks a `code` of `user`'s confirmed authenticator, and records its step so that it is
/// not accepted again.
///
/// # Errors
/// When storage fails, or the stored secret does not decrypt.
pub async fn verify(
    repo: &mut dyn Repository,
    encrypter: &Encrypter,
    user: &User,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), Refused>, StorageError> {
    let Some(secret) = secret_of(repo, encrypter, user, true).await? else {
        return Ok(Err(Refused::NoAuthenticator));
    };
    let Some(step) = matching_step(&secret, code, now) else {
        return Ok(Err(Refused::Wrong));
    };
    if repo.user_totp().use_step(user, step).await? {
        Ok(Ok(()))
    } else {
        Ok(Err(Refused::Replayed))
    }
}

/// A recovery code as stored and compared: lowercase letters and digits only (the hyphens
/// and spaces people type are ignored).
fn normalised(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Replaces the recovery codes of `user` with [`RECOVERY_CODES`] fresh ones, returned in
/// clear (`abcd-efgh-jkmn`) to show once.
///
/// # Errors
/// When storage fails.
pub async fn new_recovery_codes(
    repo: &mut dyn Repository,
    user: &User,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<Vec<String>, StorageError> {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let letters: String = (0..12)
                .map(|_| char::from(RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())]))
                .collect();
            format!("{}-{}-{}", &letters[..4], &letters[4..8], &letters[8..])
        })
        .collect();
    let stored: Vec<String> = codes.iter().map(|code| normalised(code)).collect();
    repo.user_recovery_codes()
        .replace(user, &stored, now)
        .await?;
    Ok(codes)
}

/// Uses one of `user`'s recovery codes; whether it was theirs and unused.
///
/// # Errors
/// When storage fails.
pub async fn use_recovery_code(
    repo: &mut dyn Repository,
    user: &User,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let code = normalised(code);
    if code.is_empty() {
        return Ok(false);
    }
    repo.user_recovery_codes().consume(user, &code, now).await
}

/// The second factors a user has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Factors {
    /// A confirmed authenticator app.
    pub totp: bool,
    /// An authenticator app added but not confirmed by a first code yet.
    pub totp_pending: bool,
    /// Recovery codes not used yet.
    pub recovery_codes: u64,
    /// Passkeys.
    pub passkeys: usize,
}

impl Factors {
    /// Whether a sign-in of this user takes a second step.
    #[must_use]
    pub fn any(&self) -> bool {
        self.totp || self.passkeys > 0
    }
}

/// The second factors of `user`.
///
/// # Errors
/// When storage fails.
pub async fn factors_of(repo: &mut dyn Repository, user: &User) -> Result<Factors, StorageError> {
    let totp = repo.user_totp().find(user).await?;
    let recovery_codes = repo.user_recovery_codes().count_unused(user).await?;
    let passkeys = repo.user_passkeys().list(user).await?.len();
    Ok(Factors {
        passkeys,
        totp: totp
            .as_ref()
            .is_some_and(|totp| totp.confirmed_at.is_some()),
        totp_pending: totp.is_some_and(|totp| totp.confirmed_at.is_none()),
        recovery_codes,
    })
}

/// Whether `requirement` (`account.second_factors.required`) asks `user` for a second factor.
#[must_use]
pub fn required_for(requirement: SecondFactorRequirement, user: &User) -> bool {
    match requirement {
        SecondFactorRequirement::Nobody => false,
        SecondFactorRequirement::Admins => user.can_request_admin,
        SecondFactorRequirement::Everyone => true,
    }
}

/// What a sign-in needs once its first factor (the password, or an upstream provider that does
/// not vouch for a second factor) is proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Nothing more: the user has no second factor, and none is required of them.
    SignedIn,
    /// A passkey, a code of their authenticator app or a recovery code.
    SecondFactor(Factors),
    /// They have none, and one is required: they add an authenticator app first.
    Enrol,
}

/// The step after the first factor of `user`'s sign-in.
///
/// # Errors
/// When storage fails.
pub async fn after_first_factor(
    repositories: &dyn RepositoryFactory,
    user: &User,
    requirement: SecondFactorRequirement,
) -> Result<NextStep, StorageError> {
    // Separate reads, each on its own (no snapshot needed): the cheapest on PostgreSQL.
    let mut repo = repositories.reader().await?;
    let factors = factors_of(&mut *repo, user).await?;
    repo.rollback().await?;
    Ok(if factors.any() {
        NextStep::SecondFactor(factors)
    } else if required_for(requirement, user) {
        NextStep::Enrol
    } else {
        NextStep::SignedIn
    })
}

/// Why the answer of a second step did not sign anyone in.
#[derive(Debug, thiserror::Error)]
pub enum SecondStepError {
    /// Not a code of the user's authenticator now, not an unused recovery code of theirs, or
    /// a code accepted before: one answer for all, as a guesser must not learn which.
    #[error("wrong code")]
    Wrong,
    /// Too many codes for this account: try again after `wait`.
    #[error("too many attempts")]
    RateLimited {
        /// How long until the next code may be typed.
        wait: Duration,
    },
    /// The database failed, or a stored secret does not decrypt.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Checks `code`, typed by `user` at the second step of a sign-in (or before a sensitive
/// action): six digits are a code of their authenticator app, anything else one of their
/// recovery codes. Every code counts against the account's rate limit, right or wrong; the
/// code is used up in the same unit of work. Returns how the user proved it.
///
/// # Errors
/// See [`SecondStepError`].
pub async fn check_code(
    repositories: &dyn RepositoryFactory,
    limiters: &crate::rate_limit::Limiters,
    encrypter: &Encrypter,
    user: &User,
    code: &str,
    now: DateTime<Utc>,
) -> Result<AuthenticationKind, SecondStepError> {
    limiters
        .second_factor_attempt(user.id)
        .await
        .map_err(|wait| SecondStepError::RateLimited { wait })?;
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let is_totp = digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit());
    let mut repo = repositories.transaction().await?;
    let kind = if is_totp {
        verify(&mut *repo, encrypter, user, &digits, now)
            .await?
            .is_ok()
            .then_some(AuthenticationKind::Totp)
    } else {
        use_recovery_code(&mut *repo, user, code, now)
            .await?
            .then_some(AuthenticationKind::RecoveryCode)
    };
    repo.commit().await?;
    kind.ok_or(SecondStepError::Wrong)
}

/// Checks the passkey `answer` of `user` at the second step of a sign-in (or before a
/// sensitive action): it must be one of their passkeys.
///
/// # Errors
/// [`SecondStepError::Wrong`] for an answer that is not accepted, or a passkey of someone
/// else; storage errors.
pub async fn check_passkey(
    repositories: &dyn RepositoryFactory,
    party: &crate::passkey::RelyingParty,
    user: &User,
    answer: &str,
    now: DateTime<Utc>,
) -> Result<AuthenticationKind, SecondStepError> {
    let mut repo = repositories.transaction().await?;
    let proved = crate::passkey::finish_for(&mut *repo, party, user, answer, now).await?;
    repo.commit().await?;
    match proved {
        Ok(_) => Ok(AuthenticationKind::Passkey),
        Err(refused) => {
            tracing::info!(user.id = %user.id, %refused, "passkey not accepted at the second step");
            Err(SecondStepError::Wrong)
        }
    }
}

/// Starts the browser session of `user`, who proved who they are `first` (their password, an
/// upstream provider) and then `second` (a code of their authenticator app, a recovery code):
/// both are recorded as authentications of the session.
///
/// # Errors
/// When storage fails.
pub async fn start_browser_session(
    repo: &mut dyn Repository,
    user: &User,
    (first, second): (AuthenticationKind, AuthenticationKind),
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<portcullis_model::BrowserSession, StorageError> {
    let session =
        crate::sessions::start_browser_session(repo, user, first, user_agent, now).await?;
    repo.browser_sessions()
        .authenticate(&session, second, now)
        .await?;
    Ok(session)
}

/// Removes every second factor of `user` (an operator's decision, or the user's own after
/// re-authenticating); whether there was any.
///
/// # Errors
/// When storage fails.
pub async fn remove_all(repo: &mut dyn Repository, user: &User) -> Result<bool, StorageError> {
    let authenticator = repo.user_totp().remove(user).await?;
    let codes = repo.user_recovery_codes().remove_all(user).await?;
    let passkeys = repo.user_passkeys().remove_all(user).await?;
    Ok(authenticator || codes > 0 || passkeys > 0)
}

/// Why a user may not remove a factor of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// They have no such factor.
    Unknown,
    /// It is their last second factor, and the operator requires one of them
    /// (`account.second_factors.required`).
    Required,
    /// It is how they sign in: without it they would have no password, no passkey and no
    /// account at an upstream provider left ([`crate::ways_in`]).
    LastWayIn,
}

/// Whether `user` may remove all their second factors themselves: not when one is required of
/// them, nor when their passkeys are their only way in. `Ok(Ok(()))` when they have none.
///
/// # Errors
/// When storage fails.
pub async fn may_remove_all(
    repo: &mut dyn Repository,
    user: &User,
    requirement: SecondFactorRequirement,
    counted: crate::ways_in::Counted,
) -> Result<Result<(), Kept>, StorageError> {
    if !factors_of(repo, user).await?.any() {
        return Ok(Ok(()));
    }
    if required_for(requirement, user) {
        return Ok(Err(Kept::Required));
    }
    let ways_in = crate::ways_in::ways_in(repo, user, counted).await?;
    if ways_in.any() && !ways_in.any_but_passkeys() {
        return Ok(Err(Kept::LastWayIn));
    }
    Ok(Ok(()))
}

/// Removes all of `user`'s second factors at their own request (re-authenticated), if
/// [`may_remove_all`]; whether there was any.
///
/// # Errors
/// When storage fails.
pub async fn remove_own_all(
    repo: &mut dyn Repository,
    user: &User,
    requirement: SecondFactorRequirement,
    counted: crate::ways_in::Counted,
) -> Result<Result<bool, Kept>, StorageError> {
    if let Err(kept) = may_remove_all(repo, user, requirement, counted).await? {
        return Ok(Err(kept));
    }
    Ok(Ok(remove_all(repo, user).await?))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 secret is the ASCII of "12345678901234567890"; the
    /// test vectors are 8 digits, of which a 6-digit code is the last six.
    #[test]
    fn codes_match_the_test_vectors_of_rfc_6238() {
        let secret = b"12345678901234567890";
        for (unix, eight_digits) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            let now = Utc.timestamp_opt(unix, 0).single().expect("a time");
            assert_eq!(
                code_at(secret, step_at(now)),
                eight_digits[2..],
                "at {unix}"
            );
        }
    }

    #[test]
    fn a_code_of_the_step_before_or_after_is_accepted_and_no_other() {
        let secret = b"12345678901234567890";
        let now = Utc
            .timestamp_opt(1_111_111_109, 0)
            .single()
            .expect("a time");
        let current = step_at(now);
        for (step, accepted) in [
            (current - 2, false),
            (current - 1, true),
            (current, true),
            (current + 1, true),
            (current + 2, false),
        ] {
            let code = code_at(secret, step);
            assert_eq!(
                matching_step(secret, &code, now),
                accepted.then_some(step),
                "step {step}"
            );
        }
        let spaced = code_at(secret, current);
        let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
        assert_eq!(matching_step(secret, &spaced, now), Some(current));
        for wrong in ["", "12345", "1234567", "abcdef", "12345a"] {
            assert_eq!(matching_step(secret, wrong, now), None, "{wrong:?}");
        }
    }

    #[test]
    fn the_otpauth_uri_names_the_service_and_the_account() {
        let uri = otpauth_uri("Example Chat", "@alice:example.com", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            uri,
            "otpauth://totp/Example%20Chat:@alice:example.com?secret=JBSWY3DPEHPK3PXP\
             &issuer=Example+Chat&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn recovery_codes_ignore_case_hyphens_and_spaces() {
        assert_eq!(normalised("ABCD-efgh jkmn"), "abcdefghjkmn");
        assert_eq!(normalised("--"), "");
    }
}
