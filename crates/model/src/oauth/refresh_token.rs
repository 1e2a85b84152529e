//! OAuth 2.0 refresh tokens.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ulid::Ulid;

use crate::state::InvalidTransition;

/// Where a refresh token is in its life.
///
/// ```text
/// Valid ──consume──▶ Consumed ──revoke──▶ Revoked
///   │                                        ▲
///   └──────────────────revoke────────────────┘
/// ```
///
/// Refresh tokens rotate: using one consumes it and issues its successor. A consumed token
/// presented again is a replay, possibly by a thief (RFC 9700 §4.14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum RefreshTokenState {
    /// Can be used, once.
    Valid,
    /// Was used, and replaced by a successor.
    Consumed {
        /// When it was used.
        consumed_at: DateTime<Utc>,
        /// The refresh token issued in its place; `None` once that one was deleted.
        next_refresh_token_id: Option<Ulid>,
    },
    /// Revoked, by the client or because its session's tokens were compromised.
    Revoked {
        /// When.
        revoked_at: DateTime<Utc>,
    },
}

impl RefreshTokenState {
    /// The state's name, for messages.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Consumed { .. } => "consumed",
            Self::Revoked { .. } => "revoked",
        }
    }

    fn invalid(&self, action: &'static str) -> InvalidTransition {
        InvalidTransition {
            what: "a refresh token",
            action,
            state: self.name(),
        }
    }

    /// The token was used at `consumed_at` and replaced by `next_refresh_token_id`.
    ///
    /// # Errors
    /// Unless the token is valid.
    pub fn consume(
        self,
        consumed_at: DateTime<Utc>,
        next_refresh_token_id: Ulid,
    ) -> Result<Self, InvalidTransition> {
        match self {
            Self::Valid => Ok(Self::Consumed {
                consumed_at,
                next_refresh_token_id: Some(next_refresh_token_id),
            }),
            _ => Err(self.invalid("consume")),
        }
    }

    /// The token was revoked at `revoked_at`; one revoked already keeps its first instant
    /// (revoking is idempotent, as RFC 7009 revocation is).
    #[must_use]
    pub fn revoke(self, revoked_at: DateTime<Utc>) -> Self {
        match self {
            Self::Valid | Self::Consumed { .. } => Self::Revoked { revoked_at },
            Self::Revoked { .. } => self,
        }
    }

    /// Whether the token can still be used.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid)
    }
}

/// A refresh token of an [`OAuthSession`](super::OAuthSession). Refresh tokens do not expire.
///
/// The token itself is not part of this value: it is stored only as its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshToken {
    /// Internal identifier.
    pub id: Ulid,
    /// Where the token is in its life.
    pub state: RefreshTokenState,
    /// The session it belongs to.
    pub session_id: Ulid,
    /// The [`hash_token`](crate::token::hash_token) of the token.
    pub token_hash: String,
    /// The access token issued with it, until that one is deleted.
    pub access_token_id: Option<Ulid>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn instant() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
            .single()
            .expect("valid date")
    }

    #[test]
    fn a_valid_refresh_token_is_consumed_once() {
        let next = Ulid::from_parts(1, 1);

        let consumed = RefreshTokenState::Valid
            .consume(instant(), next)
            .expect("a valid token can be consumed");

        assert_eq!(
            consumed,
            RefreshTokenState::Consumed {
                consumed_at: instant(),
                next_refresh_token_id: Some(next)
            }
        );
        assert!(consumed.consume(instant(), next).is_err());
    }

    #[test]
    fn a_revoked_refresh_token_cannot_be_consumed() {
        let revoked = RefreshTokenState::Valid.revoke(instant());

        let error = revoked
            .consume(instant(), Ulid::nil())
            .expect_err("revoked tokens are spent");

        assert_eq!(
            error.to_string(),
            "cannot consume a refresh token that is revoked"
        );
    }

    #[test]
    fn a_consumed_refresh_token_can_be_revoked_and_keeps_its_first_revocation() {
        let revoked = RefreshTokenState::Valid
            .consume(instant(), Ulid::nil())
            .expect("a valid token can be consumed")
            .revoke(instant());

        assert!(!revoked.is_valid());
        let later = instant() + chrono::TimeDelta::minutes(1);
        assert_eq!(revoked.revoke(later), revoked);
    }
}
