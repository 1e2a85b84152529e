//! Ending sessions: browser, OAuth 2.0 and compatibility.
//!
//! Every way a session ends comes here: a client revoking its token or signing out, the user
//! ending a session from the account pages or signing out of the browser, a code replayed, a new
//! login taking over a device, `mas-cli manage kill-sessions`, and the deactivation of a user.
//!
//! The rules:
//! - an ended OAuth 2.0 session has every refresh token revoked with it, so nothing it ever
//!   issued is accepted again;
//! - a session bound to a Matrix device queues the deletion of that device on the homeserver in
//!   the same unit of work (that is what makes the homeserver drop the tokens it cached), unless
//!   the device lives on in a new session that replaces this one;
//! - only the first end counts: ending a session that had ended already changes nothing and
//!   queues nothing. The caller must have read the session in the same unit of work, which holds
//!   the write lock, so its state is current. (Comparing the stored end with `now` would not do:
//!   storage keeps less precision than the clock.)

use std::{collections::BTreeSet, str::FromStr as _};

use chrono::{DateTime, Utc};
use portcullis_model::{
    AuthenticationKind, BrowserSession, CompatSession, OAuthClient, OAuthSession, User,
};
use portcullis_storage::{Repository, StorageError};
use ulid::Ulid;

use crate::jobs::delete_device::DeleteDevice;

/// The Matrix device an OAuth 2.0 session is bound to, from its scope.
#[must_use]
pub fn oauth_device(session: &OAuthSession) -> Option<String> {
    session.scope.device_id().map(str::to_owned)
}

/// Starts a browser session for `user`, who just proved who they are `how`: with their
/// password (signing in, registering, recovering their account) or at an upstream provider.
///
/// # Errors
/// When storage fails.
pub async fn start_browser_session(
    repo: &mut dyn Repository,
    user: &User,
    how: AuthenticationKind,
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<BrowserSession, StorageError> {
    let session = repo.browser_sessions().add(user, user_agent, now).await?;
    repo.browser_sessions()
        .authenticate(&session, how, now)
        .await?;
    Ok(session)
}

/// Ends a browser session. Returns whether this call ended it.
///
/// # Errors
/// When storage fails.
pub async fn end_browser_session(
    repo: &mut dyn Repository,
    session: &BrowserSession,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let finished = repo.browser_sessions().finish(session.id, now).await?;
    Ok(finished.is_some() && session.is_active())
}

/// Ends an OAuth 2.0 session, revokes its refresh tokens and queues the deletion of its device.
/// Returns whether this call ended it.
///
/// # Errors
/// When storage fails.
pub async fn end_oauth_session(
    repo: &mut dyn Repository,
    session: &OAuthSession,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let ended = end_oauth_session_keeping_device(repo, session, now).await?;
    if ended
        && let Some(user_id) = session.user_id
        && let Some(device_id) = oauth_device(session)
    {
        forget_device(repo, user_id, device_id, now).await?;
    }
    Ok(ended)
}

/// Ends an OAuth 2.0 session like [`end_oauth_session`] but leaves its device alone: for a
/// session that a new one replaces on the same device (a client logging in again with its
/// device ID), whose device, and the encryption keys on it, must survive.
///
/// # Errors
/// When storage fails.
pub async fn end_oauth_session_keeping_device(
    repo: &mut dyn Repository,
    session: &OAuthSession,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    repo.oauth_refresh_tokens()
        .revoke_all_for_session(session, now)
        .await?;
    let finished = repo.oauth_sessions().finish(session.id, now).await?;
    Ok(finished.is_some() && session.is_active())
}

/// Ends a compatibility session and queues the deletion of its device. Returns whether this
/// call ended it.
///
/// # Errors
/// When storage fails.
pub async fn end_compat_session(
    repo: &mut dyn Repository,
    session: &CompatSession,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let ended = end_compat_session_keeping_device(repo, session, now).await?;
    if ended {
        forget_device(repo, session.user_id, session.device_id.clone(), now).await?;
    }
    Ok(ended)
}

/// Ends a compatibility session, leaving its device to the session that replaces it.
///
/// # Errors
/// When storage fails.
pub async fn end_compat_session_keeping_device(
    repo: &mut dyn Repository,
    session: &CompatSession,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let finished = repo.compat_sessions().finish(session.id, now).await?;
    Ok(finished.is_some() && session.is_active())
}

/// The kind of session [`end_user_session`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A browser session (signed in to these pages).
    Browser,
    /// An OAuth 2.0 session of a client.
    OAuth,
    /// A session of the Matrix login API.
    Compat,
}

/// Ends `user`'s session with this id, whatever its kind, as when they end it from the account
/// pages (or an administrator on their behalf); `None` if the user has no session with this id.
/// A session that had ended already is found but not ended twice.
///
/// # Errors
/// When storage fails.
pub async fn end_user_session(
    repo: &mut dyn Repository,
    user: &User,
    id: Ulid,
    now: DateTime<Utc>,
) -> Result<Option<SessionKind>, StorageError> {
    if let Some(session) = repo.browser_sessions().find(id).await?
        && session.user_id == user.id
    {
        end_browser_session(repo, &session, now).await?;
        return Ok(Some(SessionKind::Browser));
    }
    if let Some(session) = repo.oauth_sessions().find(id).await?
        && session.user_id == Some(user.id)
    {
        end_oauth_session(repo, &session, now).await?;
        return Ok(Some(SessionKind::OAuth));
    }
    if let Some(session) = repo.compat_sessions().find(id).await?
        && session.user_id == user.id
    {
        end_compat_session(repo, &session, now).await?;
        return Ok(Some(SessionKind::Compat));
    }
    Ok(None)
}

/// Ends every session, OAuth 2.0 or compatibility, that `device_id` of `user` still has,
/// keeping the device: a new login on that device is about to replace them. Returns how many
/// ended.
///
/// # Errors
/// When storage fails.
pub async fn replace_device_sessions(
    repo: &mut dyn Repository,
    user: &User,
    device_id: &str,
    now: DateTime<Utc>,
) -> Result<usize, StorageError> {
    let mut ended = 0;
    for old in repo
        .compat_sessions()
        .list_active_for_device(user.id, device_id)
        .await?
    {
        if end_compat_session_keeping_device(repo, &old, now).await? {
            tracing::info!(compat_session.id = %old.id, device.id = %device_id, "compatibility session replaced by a new login on its device");
            ended += 1;
        }
    }
    for old in repo.oauth_sessions().list_active_for_user(user).await? {
        if oauth_device(&old).as_deref() != Some(device_id) {
            continue;
        }
        if end_oauth_session_keeping_device(repo, &old, now).await? {
            tracing::info!(oauth_session.id = %old.id, device.id = %device_id, "OAuth session replaced by a new login on its device");
            ended += 1;
        }
    }
    Ok(ended)
}

/// Queues the deletion of `device_id` on the homeserver; the job keeps it if a session still
/// uses it when it runs.
///
/// # Errors
/// When storage fails.
pub async fn forget_device(
    repo: &mut dyn Repository,
    user_id: Ulid,
    device_id: String,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    DeleteDevice { user_id, device_id }
        .schedule(repo, now)
        .await?;
    Ok(())
}

/// Whether an active session of the user, OAuth 2.0, compatibility or personal, is still bound
/// to `device_id`.
///
/// # Errors
/// When storage fails.
pub async fn device_in_use(
    repo: &mut dyn Repository,
    user: &User,
    device_id: &str,
) -> Result<bool, StorageError> {
    let oauth = repo.oauth_sessions().list_active_for_user(user).await?;
    if oauth
        .iter()
        .any(|session| oauth_device(session).as_deref() == Some(device_id))
    {
        return Ok(true);
    }
    let compat = repo
        .compat_sessions()
        .list_active_for_device(user.id, device_id)
        .await?;
    if !compat.is_empty() {
        return Ok(true);
    }
    // A personal session whose scope names the device, as its actor.
    let personal = portcullis_storage::PersonalSessionFilter {
        actor_user: Some(user.id),
        active: Some(true),
        scope: portcullis_oauth::scope::Scope::from_str(&format!(
            "{}{device_id}",
            portcullis_oauth::scope::MATRIX_DEVICE_PREFIX
        ))
        .ok(),
        ..portcullis_storage::PersonalSessionFilter::default()
    };
    Ok(personal.scope.is_some() && repo.personal_sessions().count(&personal).await? > 0)
}

/// Every session of a user that has not ended, read in one unit of work.
#[derive(Debug, Clone)]
pub struct ActiveSessions {
    /// The user.
    pub user: User,
    /// Browser sessions.
    pub browser: Vec<BrowserSession>,
    /// OAuth 2.0 sessions.
    pub oauth: Vec<OAuthSession>,
    /// Compatibility sessions.
    pub compat: Vec<CompatSession>,
}

/// What happens to the devices of the sessions [`ActiveSessions::end`] ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Devices {
    /// Each is deleted on the homeserver by a queued job.
    Delete,
    /// The homeserver deletes them itself, with the whole user (deactivation).
    GoWithTheUser,
    /// They stay on the homeserver, with their end-to-end keys: a bot that signs in again
    /// with the same device ID continues with its keys (`kill-sessions --keep-devices`).
    Keep,
}

impl ActiveSessions {
    /// The sessions of `user` that have not ended.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn of(repo: &mut dyn Repository, user: &User) -> Result<Self, StorageError> {
        Ok(Self {
            user: user.clone(),
            browser: repo.browser_sessions().list_active_for_user(user).await?,
            oauth: repo.oauth_sessions().list_active_for_user(user).await?,
            compat: repo.compat_sessions().list_active_for_user(user).await?,
        })
    }

    /// How many sessions, of every kind.
    #[must_use]
    pub fn len(&self) -> usize {
        self.browser.len() + self.oauth.len() + self.compat.len()
    }

    /// Whether there is none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The client of each OAuth 2.0 session, in order (`None` for a client that no longer
    /// exists).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn oauth_clients(
        &self,
        repo: &mut dyn Repository,
    ) -> Result<Vec<Option<OAuthClient>>, StorageError> {
        let mut clients = Vec::with_capacity(self.oauth.len());
        for session in &self.oauth {
            clients.push(repo.oauth_clients().find(session.client_id).await?);
        }
        Ok(clients)
    }

    /// The Matrix devices these sessions are bound to.
    #[must_use]
    pub fn devices(&self) -> BTreeSet<String> {
        let mut devices: BTreeSet<String> = self.oauth.iter().filter_map(oauth_device).collect();
        devices.extend(self.compat.iter().map(|session| session.device_id.clone()));
        devices
    }

    /// Ends them all, in the unit of work they were read in. Returns how many ended.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn end(
        &self,
        repo: &mut dyn Repository,
        devices: Devices,
        now: DateTime<Utc>,
    ) -> Result<usize, StorageError> {
        let mut ended = 0;
        for session in &self.browser {
            ended += usize::from(end_browser_session(repo, session, now).await?);
        }
        for session in &self.oauth {
            ended += usize::from(end_oauth_session_keeping_device(repo, session, now).await?);
        }
        for session in &self.compat {
            ended += usize::from(end_compat_session_keeping_device(repo, session, now).await?);
        }
        if devices == Devices::Delete {
            for device_id in self.devices() {
                forget_device(repo, self.user.id, device_id, now).await?;
            }
        }
        Ok(ended)
    }
}

/// Which sessions `experimental.inactive_session_expiration` ends, and after how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InactivityExpiry {
    /// How long a session may stay unused.
    pub ttl: chrono::TimeDelta,
    /// Whether compatibility sessions expire.
    pub compat: bool,
    /// Whether OAuth 2.0 sessions expire.
    pub oauth: bool,
    /// Whether browser sessions expire.
    pub browser: bool,
}

impl InactivityExpiry {
    /// The expiry `experimental.inactive_session_expiration` configures.
    #[must_use]
    pub fn from_config(
        config: &portcullis_config::sections::experimental::InactiveSessionExpirationConfig,
    ) -> Self {
        Self {
            ttl: chrono::TimeDelta::seconds(i64::try_from(config.ttl).unwrap_or(i64::MAX)),
            compat: config.expire_compat_sessions,
            oauth: config.expire_oauth_sessions,
            browser: config.expire_user_sessions,
        }
    }
}

/// How many sessions of each kind [`expire_inactive`] ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired {
    pub compat: usize,
    pub oauth: usize,
    pub browser: usize,
}

impl Expired {
    /// Whether a kind filled its batch, so that more may be waiting.
    #[must_use]
    pub fn filled(&self, batch: usize) -> bool {
        self.compat >= batch || self.oauth >= batch || self.browser >= batch
    }
}

/// Ends at most `batch` standing sessions of each kind `expiry` covers that were neither used
/// nor started within its time to live, as if their users had signed them out: the devices of
/// compatibility and OAuth 2.0 sessions are deleted on the homeserver by the job this queues.
///
/// # Errors
/// When storage fails.
pub async fn expire_inactive(
    repo: &mut dyn Repository,
    expiry: &InactivityExpiry,
    now: DateTime<Utc>,
    batch: usize,
) -> Result<Expired, StorageError> {
    let filter = portcullis_storage::SessionFilter {
        active: Some(true),
        inactive_since: Some(now - expiry.ttl),
        ..portcullis_storage::SessionFilter::default()
    };
    let page = portcullis_storage::Pagination::first(batch);
    let mut expired = Expired::default();
    if expiry.compat {
        let filter = portcullis_storage::CompatSessionFilter {
            session: filter.clone(),
            ..Default::default()
        };
        for session in repo.compat_sessions().list_page(&filter, page).await?.edges {
            expired.compat += usize::from(end_compat_session(repo, &session, now).await?);
        }
    }
    if expiry.oauth {
        let filter = portcullis_storage::OAuthSessionFilter {
            session: filter.clone(),
            ..Default::default()
        };
        for session in repo.oauth_sessions().list_page(&filter, page).await?.edges {
            expired.oauth += usize::from(end_oauth_session(repo, &session, now).await?);
        }
    }
    if expiry.browser {
        for session in repo
            .browser_sessions()
            .list_page(&filter, page)
            .await?
            .edges
        {
            expired.browser += usize::from(end_browser_session(repo, &session, now).await?);
        }
    }
    Ok(expired)
}
