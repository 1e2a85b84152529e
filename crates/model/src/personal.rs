//! Personal sessions: long-lived credentials for bots, scripts and tools.
//!
//! An owner (a user for themselves or their bot, or a client through the Admin API) makes a
//! personal session for an actor user, with a name and a scope; it is used through one
//! personal access token (`mpt_…`) at a time. Regenerating replaces the token; revoking ends
//! the session and its token.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use portcullis_oauth::scope::Scope;
use serde::Serialize;
use ulid::Ulid;

/// Who made a personal session, and may manage it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PersonalSessionOwner {
    /// A user.
    User(Ulid),
    /// An OAuth 2.0 client (by internal id), through the Admin API.
    Client(Ulid),
}

/// A personal session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonalSession {
    pub id: Ulid,
    pub owner: PersonalSessionOwner,
    /// The user the session acts as.
    pub actor_user_id: Ulid,
    /// A name its owner recognises.
    pub human_name: String,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    /// Set once revoked: its token is refused from then on.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When its live token stops being accepted, if it has one that expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub last_active_at: Option<DateTime<Utc>>,
    pub last_active_ip: Option<IpAddr>,
}

impl PersonalSession {
    /// Whether the session still stands (its token may still have expired).
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A personal access token. The token itself is not part of this value: it is stored only as
/// its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonalAccessToken {
    pub id: Ulid,
    pub session_id: Ulid,
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted; `None` means never.
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl PersonalAccessToken {
    /// Whether the token is accepted at `now`: neither revoked nor expired. (Its session must
    /// also still stand.)
    #[must_use]
    pub fn is_valid(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expires_at| expires_at > now)
    }
}
