//! OAuth 2.0 sessions: what a client was granted, for a user or for itself.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use portcullis_oauth::scope::Scope;
use serde::Serialize;
use ulid::Ulid;

/// A client's standing authorization, under which its access and refresh tokens are issued.
///
/// It is created when an authorization code or device code is granted (for a user), or on a
/// `client_credentials` request (for the client itself, without user). Once finished, none of
/// its tokens is accepted any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthSession {
    /// Internal identifier.
    pub id: Ulid,
    /// The client's internal id.
    pub client_id: Ulid,
    /// The user the client acts for; `None` for `client_credentials`.
    pub user_id: Option<Ulid>,
    /// The browser session in which the user granted it, if any.
    pub user_session_id: Option<Ulid>,
    /// The scope granted.
    pub scope: Scope,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it ended (sign-out, revocation, account deactivation...).
    pub finished_at: Option<DateTime<Utc>>,
    /// The client's `User-Agent`, when it sent one.
    pub user_agent: Option<String>,
    /// When a token of the session was last used.
    pub last_active_at: Option<DateTime<Utc>>,
    /// The address a token of the session was last used from.
    pub last_active_ip: Option<IpAddr>,
    /// A name for the session that the user can recognise, e.g. `Element X on Pixel 8`.
    pub human_name: Option<String>,
}

impl OAuthSession {
    /// Whether the session still stands.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.finished_at.is_none()
    }

    /// When the session ends if it is ended at `now`: a session already finished keeps its
    /// first instant, so ending it again changes nothing.
    #[must_use]
    pub fn finish(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.finished_at.unwrap_or(now)
    }
}
