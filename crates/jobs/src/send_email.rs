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
use portcullis_model::Job;
use portcullis_worker::{JobError, JobHandler};

use portcullis_services::jobs::send_email::SendEmail;

use crate::JobContext;

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
