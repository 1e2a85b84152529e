//! The `send-email` job: send one email through the configured transport.
//!
//! The payload and how it is queued; the `portcullis-jobs` crate runs it.

use chrono::{DateTime, Utc};
use portcullis_email::OutgoingEmail;
use portcullis_model::Job;
use portcullis_storage::{Repository, StorageError};
use serde::{Deserialize, Serialize};

/// The job kind.
pub const KIND: &str = "send-email";

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

    /// Queues the job in `repo`'s transaction, to run at once.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn schedule(
        &self,
        repo: &mut dyn Repository,
        now: DateTime<Utc>,
    ) -> Result<Job, StorageError> {
        super::schedule(repo, KIND, self, now).await
    }
}

impl From<OutgoingEmail> for SendEmail {
    fn from(email: OutgoingEmail) -> Self {
        Self(email)
    }
}
