//! The Matrix "compatibility" login: sessions and tokens handed out by
//! `/_matrix/client/v3/login` to clients that do not speak OAuth 2.0, and the single sign-on
//! logins (`m.login.sso`) that lead to some of them.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use ulid::Ulid;

use crate::state::InvalidTransition;

/// A device signed in through the Matrix login API, under which its access and refresh tokens
/// are issued.
///
/// It is created by a successful `/login` (with a password, or with the login token of a
/// [`CompatSsoLogin`]), and lives until the device logs out or is deleted: `finished_at` is
/// then set, once, and none of its tokens is accepted any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompatSession {
    /// Internal identifier.
    pub id: Ulid,
    /// The signed-in user.
    pub user_id: Ulid,
    /// The Matrix device id, as the client asked for it or as generated for it.
    pub device_id: String,
    /// A name for the device that the user can recognise (`initial_device_display_name`).
    pub human_name: Option<String>,
    /// The browser session in which the user signed in, for a single sign-on login.
    pub user_session_id: Option<Ulid>,
    /// Whether the session may use the homeserver's admin API.
    pub is_synapse_admin: bool,
    /// When the user signed in.
    pub created_at: DateTime<Utc>,
    /// When the session ended (logout, device deletion, account deactivation...).
    pub finished_at: Option<DateTime<Utc>>,
    /// The client's `User-Agent`, when it sent one.
    pub user_agent: Option<String>,
    /// When a token of the session was last used.
    pub last_active_at: Option<DateTime<Utc>>,
    /// The address a token of the session was last used from.
    pub last_active_ip: Option<IpAddr>,
}

impl CompatSession {
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

/// An access token of a [`CompatSession`].
///
/// The token itself is not part of this value: it is stored only as its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompatAccessToken {
    /// Internal identifier.
    pub id: Ulid,
    /// The session it belongs to.
    pub session_id: Ulid,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted; `None` means never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl CompatAccessToken {
    /// Whether the token is accepted at `now`: neither revoked nor expired. (Its session must
    /// also still stand.)
    #[must_use]
    pub fn is_valid(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expires_at| expires_at > now)
    }
}

/// A refresh token of a [`CompatSession`]. Refresh tokens do not expire.
///
/// Using one consumes it, once; a token consumed or revoked is spent. The token itself is not
/// part of this value: it is stored only as its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompatRefreshToken {
    /// Internal identifier.
    pub id: Ulid,
    /// The session it belongs to.
    pub session_id: Ulid,
    /// The access token issued with it.
    pub access_token_id: Ulid,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it was used.
    pub consumed_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl CompatRefreshToken {
    /// Whether the token can still be used: neither consumed nor revoked.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.consumed_at.is_none() && self.revoked_at.is_none()
    }
}

/// Where a single sign-on login is in its life.
///
/// ```text
/// Pending ──fulfill──▶ Fulfilled ──exchange──▶ Exchanged
/// ```
///
/// A login is fulfilled when the user signed in to the service's pages: the client is then
/// redirected with the login token, which it exchanges at `/login` (`m.login.token`), once, for
/// a [`CompatSession`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum CompatSsoLoginState {
    /// Waiting for the user to sign in.
    Pending,
    /// The user signed in; the login token is waiting to be exchanged.
    Fulfilled {
        /// When the user signed in.
        fulfilled_at: DateTime<Utc>,
        /// The browser session of the user who signed in.
        user_session_id: Ulid,
    },
    /// The login token was exchanged for a session.
    Exchanged {
        /// When the user signed in.
        fulfilled_at: DateTime<Utc>,
        /// When the login token was exchanged.
        exchanged_at: DateTime<Utc>,
        /// The browser session of the user who signed in.
        user_session_id: Ulid,
        /// The session created for the login.
        session_id: Ulid,
    },
}

impl CompatSsoLoginState {
    /// The state's name, for messages.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Fulfilled { .. } => "fulfilled",
            Self::Exchanged { .. } => "exchanged",
        }
    }

    fn invalid(&self, action: &'static str) -> InvalidTransition {
        InvalidTransition {
            what: "a single sign-on login",
            action,
            state: self.name(),
        }
    }

    /// The user of `user_session_id` signed in at `fulfilled_at`.
    ///
    /// # Errors
    /// Unless the login is pending.
    pub fn fulfill(
        self,
        fulfilled_at: DateTime<Utc>,
        user_session_id: Ulid,
    ) -> Result<Self, InvalidTransition> {
        match self {
            Self::Pending => Ok(Self::Fulfilled {
                fulfilled_at,
                user_session_id,
            }),
            _ => Err(self.invalid("fulfill")),
        }
    }

    /// The login token was exchanged at `exchanged_at` for `session_id`.
    ///
    /// # Errors
    /// Unless the login is fulfilled: a pending login has no user yet, an exchanged one's token
    /// is spent.
    pub fn exchange(
        self,
        exchanged_at: DateTime<Utc>,
        session_id: Ulid,
    ) -> Result<Self, InvalidTransition> {
        match self {
            Self::Fulfilled {
                fulfilled_at,
                user_session_id,
            } => Ok(Self::Exchanged {
                fulfilled_at,
                exchanged_at,
                user_session_id,
                session_id,
            }),
            _ => Err(self.invalid("exchange")),
        }
    }

    /// The browser session in which the user signed in, once fulfilled.
    #[must_use]
    pub fn user_session_id(&self) -> Option<Ulid> {
        match self {
            Self::Fulfilled {
                user_session_id, ..
            }
            | Self::Exchanged {
                user_session_id, ..
            } => Some(*user_session_id),
            Self::Pending => None,
        }
    }

    /// The session created for the login, once exchanged.
    #[must_use]
    pub fn session_id(&self) -> Option<Ulid> {
        match self {
            Self::Exchanged { session_id, .. } => Some(*session_id),
            Self::Pending | Self::Fulfilled { .. } => None,
        }
    }
}

/// A single sign-on login (`/_matrix/client/v3/login/sso/redirect`), remembered until its
/// login token is exchanged.
///
/// The login token itself is not part of this value: it is stored only as its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompatSsoLogin {
    /// Internal identifier.
    pub id: Ulid,
    /// Where the client wants the user sent back, with the login token.
    pub redirect_uri: url::Url,
    /// When the login started.
    pub created_at: DateTime<Utc>,
    /// Where the login is in its life.
    pub state: CompatSsoLoginState,
}

/// A login token an operator issued for a bot (`mas-cli manage issue-login-token`): redeemed
/// once at the Matrix login API before it expires, for its user and, when it names one, only
/// for its device. The token itself is stored only as its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompatLoginToken {
    pub id: Ulid,
    pub user_id: Ulid,
    /// The only device the token may sign in, if it names one.
    pub device_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it was redeemed, and the session it started.
    pub consumed_at: Option<DateTime<Utc>>,
    pub compat_session_id: Option<Ulid>,
}

impl CompatLoginToken {
    /// Whether it can still be redeemed at `now`.
    #[must_use]
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.consumed_at.is_none() && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;

    fn instant() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
            .single()
            .expect("valid date")
    }

    fn session() -> CompatSession {
        CompatSession {
            id: Ulid::nil(),
            user_id: Ulid::nil(),
            device_id: "ABCDEFGHIJ".to_owned(),
            human_name: None,
            user_session_id: None,
            is_synapse_admin: false,
            created_at: instant(),
            finished_at: None,
            user_agent: None,
            last_active_at: None,
            last_active_ip: None,
        }
    }

    fn access_token() -> CompatAccessToken {
        CompatAccessToken {
            id: Ulid::nil(),
            session_id: Ulid::nil(),
            created_at: instant(),
            expires_at: Some(instant() + TimeDelta::minutes(5)),
            revoked_at: None,
        }
    }

    fn refresh_token() -> CompatRefreshToken {
        CompatRefreshToken {
            id: Ulid::nil(),
            session_id: Ulid::nil(),
            access_token_id: Ulid::nil(),
            created_at: instant(),
            consumed_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_finished_compat_session_is_not_active() {
        let finished = CompatSession {
            finished_at: Some(instant()),
            ..session()
        };

        assert!(session().is_active());
        assert!(!finished.is_active());
    }

    #[test]
    fn a_compat_access_token_is_invalid_from_its_expiry_on() {
        let token = access_token();
        assert!(token.is_valid(instant() + TimeDelta::minutes(5) - TimeDelta::microseconds(1)));
        assert!(!token.is_valid(instant() + TimeDelta::minutes(5)));
    }

    #[test]
    fn a_revoked_compat_access_token_is_invalid() {
        let token = CompatAccessToken {
            revoked_at: Some(instant()),
            ..access_token()
        };
        assert!(!token.is_valid(instant()));
    }

    #[test]
    fn a_compat_access_token_without_expiry_stays_valid() {
        let token = CompatAccessToken {
            expires_at: None,
            ..access_token()
        };
        assert!(token.is_valid(instant() + TimeDelta::days(10_000)));
    }

    #[test]
    fn a_compat_refresh_token_is_spent_once_consumed_or_revoked() {
        let consumed = CompatRefreshToken {
            consumed_at: Some(instant()),
            ..refresh_token()
        };
        let revoked = CompatRefreshToken {
            revoked_at: Some(instant()),
            ..refresh_token()
        };

        assert!(refresh_token().is_valid());
        assert!(!consumed.is_valid());
        assert!(!revoked.is_valid());
    }

    #[test]
    fn a_pending_sso_login_is_fulfilled_then_exchanged() {
        let (browser, session) = (Ulid::from_parts(1, 1), Ulid::from_parts(1, 2));

        let fulfilled = CompatSsoLoginState::Pending
            .fulfill(instant(), browser)
            .expect("a pending login can be fulfilled");
        let exchanged = fulfilled
            .exchange(instant() + TimeDelta::seconds(5), session)
            .expect("a fulfilled login can be exchanged");

        assert_eq!(fulfilled.user_session_id(), Some(browser));
        assert_eq!(fulfilled.session_id(), None);
        assert_eq!(
            exchanged,
            CompatSsoLoginState::Exchanged {
                fulfilled_at: instant(),
                exchanged_at: instant() + TimeDelta::seconds(5),
                user_session_id: browser,
                session_id: session,
            }
        );
        assert_eq!(exchanged.session_id(), Some(session));
    }

    #[test]
    fn an_sso_login_token_is_exchanged_once_and_only_after_sign_in() {
        let exchanged = CompatSsoLoginState::Pending
            .fulfill(instant(), Ulid::nil())
            .and_then(|state| state.exchange(instant(), Ulid::nil()))
            .expect("the first exchange works");

        let error = exchanged
            .exchange(instant(), Ulid::nil())
            .expect_err("a login token is single-use");

        assert_eq!(
            error.to_string(),
            "cannot exchange a single sign-on login that is exchanged"
        );
        assert!(
            CompatSsoLoginState::Pending
                .exchange(instant(), Ulid::nil())
                .is_err()
        );
        assert!(exchanged.fulfill(instant(), Ulid::nil()).is_err());
    }
}
