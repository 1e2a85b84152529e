//! The in-memory transport: keeps what it is given, for tests.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::{EmailError, OutgoingEmail};

/// An email taken by the in-memory transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    /// What was asked to be sent.
    pub email: OutgoingEmail,
    /// The envelope sender (`MAIL FROM`).
    pub envelope_from: Option<String>,
    /// The envelope recipients (`RCPT TO`).
    pub envelope_to: Vec<String>,
    /// The message as it would have gone on the wire (RFC 5322, CRLF line endings).
    pub raw: Vec<u8>,
}

impl SentEmail {
    /// [`raw`](Self::raw) as text.
    #[must_use]
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

/// How the in-memory transport fails while told to (see
/// [`Mailer::set_failure`](crate::Mailer::set_failure)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimulatedFailure {
    /// As a relay that is down: [`EmailError::is_retryable`] is true.
    Temporary,
    /// As a relay refusing the recipient: [`EmailError::is_retryable`] is false.
    Permanent,
}

#[derive(Debug, Default)]
struct State {
    sent: Vec<SentEmail>,
    failure: Option<SimulatedFailure>,
}

/// The shared mailbox of a memory mailer and its clones.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outbox {
    state: Arc<Mutex<State>>,
}

impl Outbox {
    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing can be left half-updated by a panic here: keep going.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn deliver(
        &self,
        email: &OutgoingEmail,
        message: &lettre::Message,
    ) -> Result<(), EmailError> {
        let mut state = self.state();
        if let Some(failure) = state.failure {
            return Err(EmailError::Simulated {
                retryable: failure == SimulatedFailure::Temporary,
            });
        }
        let envelope = message.envelope();
        state.sent.push(SentEmail {
            email: email.clone(),
            envelope_from: envelope.from().map(ToString::to_string),
            envelope_to: envelope.to().iter().map(ToString::to_string).collect(),
            raw: message.formatted(),
        });
        Ok(())
    }

    pub(crate) fn sent(&self) -> Vec<SentEmail> {
        self.state().sent.clone()
    }

    pub(crate) fn take(&self) -> Vec<SentEmail> {
        std::mem::take(&mut self.state().sent)
    }

    pub(crate) fn set_failure(&self, failure: Option<SimulatedFailure>) {
        self.state().failure = failure;
    }
}
