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

/// The browser's signed-in session, if the cookie names one that is still open and whose user
/// may still use it (neither locked nor deactivated).
///
/// # Errors
/// When storage fails.
pub async fn current(
    jar: &CookieJar,
    repository: &mut BoxRepository,
) -> Result<Option<SignedIn>, StorageError> {
    let Some(id) = jar
        .get(COOKIE_NAME)
        .and_then(|cookie| cookie.value().parse::<Ulid>().ok())
    else {
        return Ok(None);
    };
    let Some(session) = repository.browser_sessions().find(id).await? else {
        return Ok(None);
    };
    if session.finished_at.is_some() {
        return Ok(None);
    }
    let Some(user) = repository.users().find_by_id(session.user_id).await? else {
        return Ok(None);
    };
    if !user.is_active() {
        return Ok(None);
    }
    Ok(Some(SignedIn { session, user }))
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
