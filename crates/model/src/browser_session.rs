//! Browser sessions: a user signed in to the auth service's own pages, and how they proved it.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use ulid::Ulid;

use crate::state::named_enum;

/// A user signed in through a web browser (the `session` cookie points at one).
///
/// It lives until the user signs out or it is ended from the account page: `finished_at` is
/// then set, once, and never cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrowserSession {
    /// Internal identifier.
    pub id: Ulid,
    /// The signed-in user.
    pub user_id: Ulid,
    /// When the user signed in.
    pub created_at: DateTime<Utc>,
    /// When the session ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The browser's `User-Agent`, when it sent one.
    pub user_agent: Option<String>,
    /// When the session was last seen in use.
    pub last_active_at: Option<DateTime<Utc>>,
    /// The address it was last used from.
    pub last_active_ip: Option<IpAddr>,
}

impl BrowserSession {
    /// Whether the session is still signed in.
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

named_enum! {
    /// How a browser session proved who its user is.
    pub enum AuthenticationKind ("authentication kind") {
        /// The user typed their password.
        Password => "password",
        /// The user signed in at an upstream provider.
        Upstream => "upstream",
        /// A second factor: a code of the user's authenticator app (TOTP).
        Totp => "totp",
        /// A second factor: one of the user's recovery codes.
        RecoveryCode => "recovery_code",
        /// A passkey (WebAuthn): alone, or as the second factor.
        Passkey => "passkey",
    }
}

/// One proof of identity within a browser session.
///
/// A session is authenticated when it starts, and again whenever a client asks for a fresh
/// sign-in (`prompt=login`, or a `max_age` the last proof is older than): the newest instant is
/// what those checks compare against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authentication {
    /// Internal identifier.
    pub id: Ulid,
    /// The browser session it belongs to.
    pub user_session_id: Ulid,
    /// How the user proved it.
    pub kind: AuthenticationKind,
    /// When.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authentication_kind_names_round_trip() {
        for kind in AuthenticationKind::ALL {
            assert_eq!(kind.as_str().parse::<AuthenticationKind>(), Ok(*kind));
        }
    }

    #[test]
    fn an_unknown_authentication_kind_is_refused() {
        let error = "telepathy"
            .parse::<AuthenticationKind>()
            .expect_err("unknown");
        assert_eq!(
            error.to_string(),
            "unknown authentication kind \"telepathy\""
        );
    }
}
