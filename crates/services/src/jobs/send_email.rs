//! The `send-email` job: send one email through the configured transport.
//!
//! The payload and how it is queued; the `portcullis-jobs` crate runs it.

use portcullis_email::OutgoingEmail;
use serde::{Deserialize, Serialize};

/// The payload of a `send-email` job: the email, as `{ to, subject, text, html }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SendEmail(pub OutgoingEmail);

impl SendEmail {
    /// A job that sends `email`.
    #[must_use]
    pub fn new(email: OutgoingEmail) -> Self {
        Self(email)
    }
}

impl From<OutgoingEmail> for SendEmail {
    fn from(email: OutgoingEmail) -> Self {
        Self(email)
    }
}

super::job_kind!(SendEmail, "send-email");
