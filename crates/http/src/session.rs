//! The browser session: which user this browser is signed in as, kept in the encrypted
//! `session` cookie as the id of a `user_sessions` row.

use portcullis_model::{BrowserSession, User};
use portcullis_storage::{BoxRepository, StorageError};
use ulid::Ulid;

use crate::{AppState, cookies::CookieJar};

const COOKIE_NAME: &str = "session";

/// The cookie recording when this browser last signed out (for `logged_out` in an upstream
/// provider's parameter templates).
const SIGNED_OUT_COOKIE: &str = "logged-out";

/// How long after signing out a browser counts as just signed out.
const JUST_SIGNED_OUT: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// A signed-in browser: its session and its user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: BrowserSession,
    pub user: User,
}

/// What the session cookie names.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// No cookie, or one naming a session that is unknown or finished.
    Nobody,
    /// An open session of a user who may use it.
    SignedIn(SignedIn),
    /// An open session of a user who is locked (and not deactivated).
    Locked(User),
    /// An open session of a user who is deactivated.
    Deactivated(User),
}

/// What the browser's session cookie names, the user's state included: pages that must tell
/// a locked or deactivated user why they are signed out use this rather than [`current`].
///
/// # Errors
/// When storage fails.
pub async fn lookup(
    jar: &CookieJar,
    repository: &mut BoxRepository,
) -> Result<Lookup, StorageError> {
    let Some(id) = jar
        .get(COOKIE_NAME)
        .and_then(|cookie| cookie.value().parse::<Ulid>().ok())
    else {
        return Ok(Lookup::Nobody);
    };
    let Some(session) = repository.browser_sessions().find(id).await? else {
        return Ok(Lookup::Nobody);
    };
    if session.finished_at.is_some() {
        return Ok(Lookup::Nobody);
    }
    let Some(user) = repository.users().find_by_id(session.user_id).await? else {
        return Ok(Lookup::Nobody);
    };
    Ok(if user.deactivated_at.is_some() {
        Lookup::Deactivated(user)
    } else if user.locked_at.is_some() {
        Lookup::Locked(user)
    } else {
        Lookup::SignedIn(SignedIn { session, user })
    })
}

/// The browser's signed-in session, if the cookie names one that is still open and whose user
/// may still use it (neither locked nor deactivated).
///
/// # Errors
/// When storage fails.
pub async fn current(
    jar: &CookieJar,
    repository: &mut BoxRepository,
) -> Result<Option<SignedIn>, StorageError> {
    Ok(match lookup(jar, repository).await? {
        Lookup::SignedIn(signed_in) => {
            crate::telemetry::record_user(signed_in.user.id);
            Some(signed_in)
        }
        Lookup::Nobody | Lookup::Locked(_) | Lookup::Deactivated(_) => None,
    })
}

/// The jar with the cookie naming `session`.
pub fn remember(state: &AppState, jar: CookieJar, session: &BrowserSession) -> CookieJar {
    jar.add(
        state
            .cookie_settings()
            .cookie(COOKIE_NAME, session.id.to_string()),
    )
}

/// The jar without the session cookie.
pub fn forget(state: &AppState, jar: CookieJar) -> CookieJar {
    jar.remove(state.cookie_settings().removal(COOKIE_NAME))
}

/// The jar without the session cookie, remembering that the user signed out now: an upstream
/// sign-in in the next minutes can ask the provider to sign them in again (`logged_out`).
pub fn sign_out(state: &AppState, jar: CookieJar) -> CookieJar {
    let now = state.now();
    forget(state, jar).add(
        state
            .cookie_settings()
            .cookie(SIGNED_OUT_COOKIE, now.timestamp().to_string()),
    )
}

/// Whether this browser signed out less than five minutes ago.
#[must_use]
pub fn just_signed_out(state: &AppState, jar: &CookieJar) -> bool {
    let now = state.now();
    jar.get(SIGNED_OUT_COOKIE)
        .and_then(|cookie| cookie.value().parse::<i64>().ok())
        .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
        .is_some_and(|at| at <= now && now - at < JUST_SIGNED_OUT)
}
