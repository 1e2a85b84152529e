//! When and from where sessions were last active.
//!
//! Activity is not written as it happens (introspection is the hot path and must not write):
//! the service layer gathers it in memory and hands it over in batches.

use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ulid::Ulid;

use crate::StorageError;

/// A session of any kind, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SessionRef {
    /// A browser session.
    Browser(Ulid),
    /// An OAuth 2.0 session.
    OAuth(Ulid),
    /// A compatibility session.
    Compat(Ulid),
    /// A personal session.
    Personal(Ulid),
}

/// A session seen active at `at`, from `ip` when the address is known (a token the homeserver
/// introspects comes without the client's address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionActivity {
    /// The session.
    pub session: SessionRef,
    /// When it was last seen.
    pub at: DateTime<Utc>,
    /// The client's address, if known.
    pub ip: Option<IpAddr>,
}

/// Records session activity.
#[async_trait]
pub trait SessionActivityRepository: Send {
    /// Records each activity: a session's `last_active_at` becomes `at` unless it already holds
    /// a later instant, and its `last_active_ip` becomes `ip` when an address is given (an
    /// unknown address keeps the last known one). Unknown sessions are skipped. Returns how
    /// many sessions were updated.
    async fn record(&mut self, batch: &[SessionActivity]) -> Result<u64, StorageError>;
}
