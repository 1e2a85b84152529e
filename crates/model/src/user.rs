//! Users and the tokens that allow registering one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ulid::Ulid;

/// A local account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Internal identifier.
    pub id: Ulid,
    /// The Matrix localpart, already lowercase.
    pub username: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// Set while an administrator has locked the account: sign-in and introspection are
    /// refused, but sessions are kept so that unlocking restores them.
    pub locked_at: Option<DateTime<Utc>>,
    /// Set once the account is deactivated (its sessions are ended for good).
    pub deactivated_at: Option<DateTime<Utc>>,
    /// Whether the user may ask for the admin scope.
    pub can_request_admin: bool,
}

impl User {
    /// Whether the user may sign in and use their sessions: neither locked nor deactivated.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.locked_at.is_none() && self.deactivated_at.is_none()
    }
}

/// A token that allows registering an account when registration requires one.
///
/// The token itself is not part of this value: it is stored only as its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationToken {
    /// Internal identifier.
    pub id: Ulid,
    /// How many registrations it allows; `None` means unlimited.
    pub usage_limit: Option<u32>,
    /// How many registrations it has allowed so far.
    pub times_used: u32,
    /// When the token was created.
    pub created_at: DateTime<Utc>,
    /// After this instant the token is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// Set once an administrator revoked the token.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the token was last consumed.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl RegistrationToken {
    /// Whether the token would be accepted at `now`: not revoked, not expired and not used up.
    ///
    /// This is for display; the consumption itself is decided atomically by the database.
    #[must_use]
    pub fn is_valid(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none()
            && self.expires_at.is_none_or(|expires_at| expires_at > now)
            && self.usage_limit.is_none_or(|limit| self.times_used < limit)
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

    fn user() -> User {
        User {
            id: Ulid::nil(),
            username: "alice".to_owned(),
            created_at: instant(),
            locked_at: None,
            deactivated_at: None,
            can_request_admin: false,
        }
    }

    fn token() -> RegistrationToken {
        RegistrationToken {
            id: Ulid::nil(),
            usage_limit: Some(1),
            times_used: 0,
            created_at: instant(),
            expires_at: Some(instant() + TimeDelta::hours(1)),
            revoked_at: None,
            last_used_at: None,
        }
    }

    #[test]
    fn a_locked_user_is_not_active() {
        let user = User {
            locked_at: Some(instant()),
            ..user()
        };
        assert!(!user.is_active());
    }

    #[test]
    fn a_deactivated_user_is_not_active() {
        let user = User {
            deactivated_at: Some(instant()),
            ..user()
        };
        assert!(!user.is_active());
    }

    #[test]
    fn a_fresh_user_is_active() {
        assert!(user().is_active());
    }

    #[test]
    fn a_registration_token_is_invalid_from_its_expiry_on() {
        let token = token();
        assert!(token.is_valid(instant()));
        assert!(!token.is_valid(instant() + TimeDelta::hours(1)));
    }

    #[test]
    fn a_used_up_registration_token_is_invalid() {
        let token = RegistrationToken {
            times_used: 1,
            ..token()
        };
        assert!(!token.is_valid(instant()));
    }

    #[test]
    fn a_revoked_registration_token_is_invalid() {
        let token = RegistrationToken {
            revoked_at: Some(instant()),
            ..token()
        };
        assert!(!token.is_valid(instant()));
    }
}
