//! The browser session: which user this browser is signed in as, kept in the encrypted
//! `session` cookie as the id of a `user_sessions` row.

use portcullis_model::{BrowserSession, User};
use portcullis_storage::{BoxRepository, StorageError};
use ulid::Ulid;

use crate::{AppState, cookies::CookieJar};

const COOKIE_NAME: &str = "session";

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
        Lookup::SignedIn(signed_in) => Some(signed_in),
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
