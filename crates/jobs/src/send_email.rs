//! `send-email`: send one email through the configured transport.
//!
//! The payload is the email itself, rendered from the `emails/` templates in the reader's
//! language when the job is queued (`{ to, subject, text, html }`): the job needs no templates or
//! site settings, and a retried job sends exactly what was first meant. The price is that the
//! body (a verification code, a recovery link) sits in the job table until the job is cleaned
//! up, as the code or ticket itself sits in its own table.
//!
//! A failure that trying again can help with (relay unreachable, timeout, 4xx reply) fails the
//! attempt, and the worker retries with its back-off until the job's attempts run out. A
//! permanent one (5xx reply, invalid address) is logged at warn level and the job completes: the
//! same email would be refused the same way on every attempt.
//!
//! Like every job, it may run twice (a worker that dies after the relay took the email but
//! before the job was marked completed): the reader then gets the same email twice, which is
//! harmless for a code or a link.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_email::OutgoingEmail;
use portcullis_model::Job;
use portcullis_storage::{Repository, StorageError};
use portcullis_worker::{JobError, JobHandler};
use serde::{Deserialize, Serialize};

use crate::JobContext;

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
        crate::schedule(repo, KIND, self, now).await
    }
}

impl From<OutgoingEmail> for SendEmail {
    fn from(email: OutgoingEmail) -> Self {
        Self(email)
    }
}

/// Runs `send-email` jobs.
pub struct Handler(pub(crate) JobContext);

#[async_trait]
impl JobHandler for Handler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let SendEmail(email) = crate::payload(job)?;
        match self.0.mailer.send(&email).await {
            Ok(()) => {
                tracing::info!(
                    job.id = %job.id,
                    email.to = %email.to,
                    email.transport = %self.0.mailer.transport_kind(),
                    "email sent"
                );
                Ok(())
            }
            Err(error) if error.is_retryable() => Err(error.into()),
            Err(error) => {
                tracing::warn!(
                    job.id = %job.id,
                    email.to = %email.to,
                    error = %portcullis_worker::error_chain(&error),
                    "the email cannot be sent and trying again will not help: giving up"
                );
                Ok(())
            }
        }
    }
}
