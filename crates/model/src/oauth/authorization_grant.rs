//! Authorization grants: what a client asked for at the authorization endpoint, until its code
//! is exchanged.

use chrono::{DateTime, Utc};
use portcullis_oauth::scope::Scope;
use serde::Serialize;
use ulid::Ulid;
use url::Url;

use crate::state::InvalidTransition;

pub use portcullis_oauth::{pkce::CodeChallengeMethod, requests::ResponseMode};

/// A PKCE challenge (RFC 7636): the token request must present the verifier it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeChallenge {
    /// The challenge as the client sent it.
    pub challenge: String,
    /// How it was derived from the verifier.
    pub method: CodeChallengeMethod,
}

/// Where an authorization grant is in its life.
///
/// ```text
/// Pending ──fulfill──▶ Fulfilled ──exchange──▶ Exchanged
///    │
///    └──cancel──▶ Cancelled
/// ```
///
/// A grant is fulfilled when the user signed in and consented: an OAuth 2.0 session now exists
/// for it. Its code can then be exchanged for tokens, once (RFC 6749 §4.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "lowercase")]
pub enum AuthorizationGrantStage {
    /// Waiting for the user to sign in and consent.
    Pending,
    /// The user consented; the code is waiting to be exchanged.
    Fulfilled {
        /// The OAuth 2.0 session created for the grant.
        session_id: Ulid,
        /// The browser session of the user who consented.
        user_session_id: Ulid,
        /// When the user consented.
        fulfilled_at: DateTime<Utc>,
    },
    /// The code was exchanged for tokens.
    Exchanged {
        /// The OAuth 2.0 session created for the grant.
        session_id: Ulid,
        /// The browser session of the user who consented.
        user_session_id: Ulid,
        /// When the user consented.
        fulfilled_at: DateTime<Utc>,
        /// When the code was exchanged.
        exchanged_at: DateTime<Utc>,
    },
    /// The user declined, or the request was abandoned.
    Cancelled {
        /// When.
        cancelled_at: DateTime<Utc>,
    },
}

impl AuthorizationGrantStage {
    /// The stage's name, for messages.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Fulfilled { .. } => "fulfilled",
            Self::Exchanged { .. } => "exchanged",
            Self::Cancelled { .. } => "cancelled",
        }
    }

    fn invalid(&self, action: &'static str) -> InvalidTransition {
        InvalidTransition {
            what: "an authorization grant",
            action,
            state: self.name(),
        }
    }

    /// The user consented at `fulfilled_at`, in `user_session_id`, and `session_id` was
    /// created for the grant.
    ///
    /// # Errors
    /// Unless the grant is pending.
    pub fn fulfill(
        self,
        session_id: Ulid,
        user_session_id: Ulid,
        fulfilled_at: DateTime<Utc>,
    ) -> Result<Self, InvalidTransition> {
        match self {
            Self::Pending => Ok(Self::Fulfilled {
                session_id,
                user_session_id,
                fulfilled_at,
            }),
            _ => Err(self.invalid("fulfill")),
        }
    }

    /// The code was exchanged at `exchanged_at`.
    ///
    /// # Errors
    /// Unless the grant is fulfilled: a pending grant has no consent yet, an exchanged one's
    /// code is spent.
    pub fn exchange(self, exchanged_at: DateTime<Utc>) -> Result<Self, InvalidTransition> {
        match self {
            Self::Fulfilled {
                session_id,
                user_session_id,
                fulfilled_at,
            } => Ok(Self::Exchanged {
                session_id,
                user_session_id,
                fulfilled_at,
                exchanged_at,
            }),
            _ => Err(self.invalid("exchange")),
        }
    }

    /// The grant was abandoned at `cancelled_at`.
    ///
    /// # Errors
    /// Unless the grant is pending: once the user consented, the grant is ended by ending its
    /// session instead.
    pub fn cancel(self, cancelled_at: DateTime<Utc>) -> Result<Self, InvalidTransition> {
        match self {
            Self::Pending => Ok(Self::Cancelled { cancelled_at }),
            _ => Err(self.invalid("cancel")),
        }
    }

    /// The OAuth 2.0 session created for the grant, once fulfilled.
    #[must_use]
    pub fn session_id(&self) -> Option<Ulid> {
        match self {
            Self::Fulfilled { session_id, .. } | Self::Exchanged { session_id, .. } => {
                Some(*session_id)
            }
            Self::Pending | Self::Cancelled { .. } => None,
        }
    }

    /// The browser session in which the user consented, once fulfilled.
    #[must_use]
    pub fn user_session_id(&self) -> Option<Ulid> {
        match self {
            Self::Fulfilled {
                user_session_id, ..
            }
            | Self::Exchanged {
                user_session_id, ..
            } => Some(*user_session_id),
            Self::Pending | Self::Cancelled { .. } => None,
        }
    }
}

/// An authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1), remembered from
/// the authorization endpoint until its code is exchanged.
///
/// The code itself is not part of this value: it is stored only as its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizationGrant {
    /// Internal identifier.
    pub id: Ulid,
    /// Where the grant is in its life.
    pub stage: AuthorizationGrantStage,
    /// The client's internal id.
    pub client_id: Ulid,
    /// Where the response goes, one of the client's redirect URIs.
    pub redirect_uri: Url,
    /// The scope asked for.
    pub scope: Scope,
    /// The client's `state`, echoed in the response.
    pub state: Option<String>,
    /// The client's `nonce`, echoed in the ID token.
    pub nonce: Option<String>,
    /// How the response is returned.
    pub response_mode: ResponseMode,
    /// Whether `response_type` includes `code`.
    pub response_type_code: bool,
    /// Whether `response_type` includes `id_token`.
    pub response_type_id_token: bool,
    /// The [`hash_token`](crate::token::hash_token) of the code, when a code was asked for.
    pub code_hash: Option<String>,
    /// The PKCE challenge, when the client sent one.
    pub code_challenge: Option<CodeChallenge>,
    /// The longest time, in seconds, since the user last proved their identity that the client
    /// accepts (`max_age`).
    pub max_age: Option<u32>,
    /// Who the client expects to sign in (`login_hint`).
    pub login_hint: Option<String>,
    /// The language the pages should be in (from `ui_locales`).
    pub locale: Option<String>,
    /// Whether the user must be asked for consent even if they gave it before.
    pub requires_consent: bool,
    /// When the request came in.
    pub created_at: DateTime<Utc>,
    /// The request's parameters as the client sent them (a JSON object of strings), for the
    /// templates of an upstream provider's authorization parameters (`params`).
    pub raw_parameters: Option<serde_json::Value>,
}

impl AuthorizationGrant {}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn instant() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
            .single()
            .expect("valid date")
    }

    fn ids() -> (Ulid, Ulid) {
        (Ulid::from_parts(1, 1), Ulid::from_parts(1, 2))
    }

    #[test]
    fn a_pending_grant_is_fulfilled_then_exchanged() {
        let (session, browser) = ids();

        let fulfilled = AuthorizationGrantStage::Pending
            .fulfill(session, browser, instant())
            .expect("a pending grant can be fulfilled");
        let exchanged = fulfilled
            .exchange(instant())
            .expect("a fulfilled grant can be exchanged");

        assert_eq!(exchanged.session_id(), Some(session));
        assert_eq!(exchanged.user_session_id(), Some(browser));
        assert_eq!(exchanged.name(), "exchanged");
    }

    #[test]
    fn an_exchanged_grant_cannot_be_exchanged_again() {
        let (session, browser) = ids();
        let exchanged = AuthorizationGrantStage::Pending
            .fulfill(session, browser, instant())
            .and_then(|stage| stage.exchange(instant()))
            .expect("the first exchange works");

        let error = exchanged
            .exchange(instant())
            .expect_err("a code is single-use");

        assert_eq!(
            error.to_string(),
            "cannot exchange an authorization grant that is exchanged"
        );
    }

    #[test]
    fn a_pending_grant_cannot_be_exchanged() {
        assert!(
            AuthorizationGrantStage::Pending
                .exchange(instant())
                .is_err()
        );
    }

    #[test]
    fn only_a_pending_grant_can_be_cancelled() {
        let (session, browser) = ids();
        let fulfilled = AuthorizationGrantStage::Pending
            .fulfill(session, browser, instant())
            .expect("fulfilled");

        assert!(AuthorizationGrantStage::Pending.cancel(instant()).is_ok());
        assert!(fulfilled.cancel(instant()).is_err());
    }

    #[test]
    fn a_cancelled_grant_cannot_be_fulfilled() {
        let (session, browser) = ids();
        let cancelled = AuthorizationGrantStage::Pending
            .cancel(instant())
            .expect("cancelled");

        assert!(cancelled.fulfill(session, browser, instant()).is_err());
    }
}
