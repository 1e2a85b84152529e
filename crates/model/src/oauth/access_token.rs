//! OAuth 2.0 access tokens.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ulid::Ulid;

/// An access token of an [`OAuthSession`](super::OAuthSession).
///
/// The token itself is not part of this value: it is stored only as its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessToken {
    /// Internal identifier.
    pub id: Ulid,
    /// The session it belongs to.
    pub session_id: Ulid,
    /// The [`hash_token`](crate::token::hash_token) of the token, e.g. to key a cache of
    /// introspection answers.
    pub token_hash: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted; `None` means never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was first presented to the homeserver. A refresh token whose response got lost
    /// can be retried only while its successor's access token was never used.
    pub first_used_at: Option<DateTime<Utc>>,
}

impl AccessToken {
    /// Whether the token is accepted at `now`: neither revoked nor expired. (Its session must
    /// also still stand.)
    #[must_use]
    pub fn is_valid(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expires_at| expires_at > now)
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

    fn token() -> AccessToken {
        AccessToken {
            id: Ulid::nil(),
            session_id: Ulid::nil(),
            token_hash: String::new(),
            created_at: instant(),
            expires_at: Some(instant() + TimeDelta::minutes(5)),
            revoked_at: None,
            first_used_at: None,
        }
    }

    #[test]
    fn an_access_token_is_invalid_from_its_expiry_on() {
        let token = token();
        assert!(token.is_valid(instant() + TimeDelta::minutes(5) - TimeDelta::microseconds(1)));
        assert!(!token.is_valid(instant() + TimeDelta::minutes(5)));
    }

    #[test]
    fn a_revoked_access_token_is_invalid() {
        let token = AccessToken {
            revoked_at: Some(instant()),
            ..token()
        };
        assert!(!token.is_valid(instant()));
    }

    #[test]
    fn an_access_token_without_expiry_stays_valid() {
        let token = AccessToken {
            expires_at: None,
            ..token()
        };
        assert!(token.is_valid(instant() + TimeDelta::days(10_000)));
    }
}
