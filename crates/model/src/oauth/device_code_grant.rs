//! Device authorization grants (RFC 8628): a device without a browser asks, a user approves
//! elsewhere.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use portcullis_oauth::scope::Scope;
use serde::Serialize;
use ulid::Ulid;

use crate::state::InvalidTransition;

/// Where a device code grant is in its life.
///
/// ```text
/// Pending ──fulfill──▶ Fulfilled ──exchange──▶ Exchanged
///    │
///    └──reject──▶ Rejected
/// ```
///
/// Expiry is not a stage: a grant past its `expires_at` can no longer be fulfilled, rejected
/// or exchanged, whatever its stage (see [`DeviceCodeGrant::is_expired`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "lowercase")]
pub enum DeviceCodeGrantStage {
    /// Waiting for a user to enter the user code and approve.
    Pending,
    /// A user approved; the device's next poll gets the tokens.
    Fulfilled {
        /// The browser session in which the user approved.
        browser_session_id: Ulid,
        /// The user who approved.
        user_id: Ulid,
        /// When.
        fulfilled_at: DateTime<Utc>,
    },
    /// The user refused.
    Rejected {
        /// When.
        rejected_at: DateTime<Utc>,
    },
    /// The device got its tokens.
    Exchanged {
        /// The browser session in which the user approved.
        browser_session_id: Ulid,
        /// The user who approved.
        user_id: Ulid,
        /// When the user approved.
        fulfilled_at: DateTime<Utc>,
        /// The OAuth 2.0 session created for the device.
        session_id: Ulid,
        /// When the device got its tokens.
        exchanged_at: DateTime<Utc>,
    },
}

impl DeviceCodeGrantStage {
    /// The stage's name, for messages.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Fulfilled { .. } => "fulfilled",
            Self::Rejected { .. } => "rejected",
            Self::Exchanged { .. } => "exchanged",
        }
    }

    fn invalid(&self, action: &'static str) -> InvalidTransition {
        InvalidTransition {
            what: "a device code grant",
            action,
            state: self.name(),
        }
    }

    /// The user of `browser_session_id` approved at `fulfilled_at`.
    ///
    /// # Errors
    /// Unless the grant is pending: a code is bound to the first approval.
    pub fn fulfill(
        self,
        browser_session_id: Ulid,
        user_id: Ulid,
        fulfilled_at: DateTime<Utc>,
    ) -> Result<Self, InvalidTransition> {
        match self {
            Self::Pending => Ok(Self::Fulfilled {
                browser_session_id,
                user_id,
                fulfilled_at,
            }),
            _ => Err(self.invalid("fulfill")),
        }
    }

    /// The user refused at `rejected_at`.
    ///
    /// # Errors
    /// Unless the grant is pending.
    pub fn reject(self, rejected_at: DateTime<Utc>) -> Result<Self, InvalidTransition> {
        match self {
            Self::Pending => Ok(Self::Rejected { rejected_at }),
            _ => Err(self.invalid("reject")),
        }
    }

    /// The device got its tokens, under `session_id`, at `exchanged_at`.
    ///
    /// # Errors
    /// Unless the grant is fulfilled.
    pub fn exchange(
        self,
        session_id: Ulid,
        exchanged_at: DateTime<Utc>,
    ) -> Result<Self, InvalidTransition> {
        match self {
            Self::Fulfilled {
                browser_session_id,
                user_id,
                fulfilled_at,
            } => Ok(Self::Exchanged {
                browser_session_id,
                user_id,
                fulfilled_at,
                session_id,
                exchanged_at,
            }),
            _ => Err(self.invalid("exchange")),
        }
    }
}

/// A device authorization request (RFC 8628 §3.1), until the device gets its tokens.
///
/// Neither code is part of this value: both are stored only as their hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceCodeGrant {
    /// Internal identifier.
    pub id: Ulid,
    /// Where the grant is in its life.
    pub stage: DeviceCodeGrantStage,
    /// The client's internal id.
    pub client_id: Ulid,
    /// The scope asked for.
    pub scope: Scope,
    /// The [`hash_token`](crate::token::hash_token) of the device code, which the device polls
    /// with.
    pub device_code_hash: String,
    /// The hash of the user code, which the user types (upper-cased before hashing).
    pub user_code_hash: String,
    /// When the device asked.
    pub created_at: DateTime<Utc>,
    /// From this instant on, both codes are refused.
    pub expires_at: DateTime<Utc>,
    /// When the device last polled the token endpoint.
    pub last_polled_at: Option<DateTime<Utc>>,
    /// The device's address when it asked.
    pub ip: Option<IpAddr>,
    /// The device's `User-Agent` when it asked.
    pub user_agent: Option<String>,
}

impl DeviceCodeGrant {
    /// Whether the codes are refused at `now`.
    #[must_use]
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }
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
    fn a_pending_device_grant_is_fulfilled_then_exchanged() {
        let (browser, user, session) = (
            Ulid::from_parts(1, 1),
            Ulid::from_parts(1, 2),
            Ulid::from_parts(1, 3),
        );

        let exchanged = DeviceCodeGrantStage::Pending
            .fulfill(browser, user, instant())
            .and_then(|stage| stage.exchange(session, instant()))
            .expect("pending → fulfilled → exchanged");

        assert_eq!(
            exchanged,
            DeviceCodeGrantStage::Exchanged {
                browser_session_id: browser,
                user_id: user,
                fulfilled_at: instant(),
                session_id: session,
                exchanged_at: instant(),
            }
        );
    }

    #[test]
    fn a_device_grant_is_bound_to_the_first_approval() {
        let fulfilled = DeviceCodeGrantStage::Pending
            .fulfill(Ulid::from_parts(1, 1), Ulid::from_parts(1, 2), instant())
            .expect("the first approval binds");

        let second = fulfilled.fulfill(Ulid::from_parts(2, 1), Ulid::from_parts(2, 2), instant());

        assert_eq!(
            second
                .expect_err("the second approval is refused")
                .to_string(),
            "cannot fulfill a device code grant that is fulfilled"
        );
    }

    #[test]
    fn a_rejected_device_grant_cannot_be_exchanged() {
        let rejected = DeviceCodeGrantStage::Pending
            .reject(instant())
            .expect("a pending grant can be rejected");

        assert!(rejected.exchange(Ulid::nil(), instant()).is_err());
        assert!(
            rejected
                .fulfill(Ulid::nil(), Ulid::nil(), instant())
                .is_err()
        );
    }

    #[test]
    fn a_pending_device_grant_cannot_be_exchanged() {
        assert!(
            DeviceCodeGrantStage::Pending
                .exchange(Ulid::nil(), instant())
                .is_err()
        );
    }
}
