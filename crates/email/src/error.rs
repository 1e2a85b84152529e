//! What can go wrong while sending, and whether trying again later can help.

use std::fmt;

/// An input that is not a usable email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a valid email address: {problem}")]
pub struct InvalidAddress {
    /// What was given.
    pub input: String,
    /// Why it was refused.
    pub problem: AddressProblem,
}

/// What is wrong with an address, as a closed set so that pages can say it in the reader's
/// language; the `Display` form is English, for logs and the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressProblem {
    /// Nothing but whitespace.
    #[error("it is empty")]
    Empty,
    /// Longer than [`crate::MAX_ADDRESS_LENGTH`].
    #[error("it is longer than 254 characters")]
    TooLong,
    /// A display name, several addresses, or whitespace inside.
    #[error("write only the address, e.g. user@example.com")]
    NotBare,
    /// No `@`, or nothing before or after it.
    #[error("it needs a name, an @ and a domain, e.g. user@example.com")]
    MissingParts,
    /// The part before the `@` has characters an address cannot have.
    #[error("the part before the @ is not valid")]
    InvalidUser,
    /// The part after the `@` is not a domain name.
    #[error("the part after the @ is not a valid domain")]
    InvalidDomain,
}

/// Why an email could not be sent (or a mailer not built).
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The recipient (or a configured sender) is not an email address.
    #[error(transparent)]
    InvalidAddress(#[from] InvalidAddress),

    /// The `email` configuration cannot be used.
    #[error("the email configuration cannot be used: {0}")]
    Config(String),

    /// The message could not be put together.
    #[error("the email cannot be built")]
    Build(#[source] lettre::error::Error),

    /// The SMTP relay could not be reached, or refused the message.
    #[error("the SMTP relay did not take the email")]
    Smtp(#[source] lettre::transport::smtp::Error),

    /// The sendmail command could not be run, or failed.
    #[error("the sendmail command did not take the email")]
    Sendmail(#[source] lettre::transport::sendmail::Error),

    /// Sending took longer than allowed.
    #[error("sending the email took more than {} s", .0.as_secs())]
    Timeout(std::time::Duration),

    /// The SMTP relay accepted the connection but did not answer `NOOP` (connection check).
    #[error("the SMTP relay accepted the connection but does not answer")]
    NoResponse,

    /// The in-memory transport was told to fail (tests).
    #[error("the in-memory transport was told to fail ({})", if *.retryable { "temporarily" } else { "permanently" })]
    Simulated {
        /// Whether the simulated failure is temporary.
        retryable: bool,
    },
}

impl EmailError {
    /// Whether sending the same email again later may succeed.
    ///
    /// Yes for unreachable relays, timeouts, TLS and network failures, 4xx SMTP replies and a
    /// failing sendmail command (the local mail system may be busy or being repaired); no for
    /// 5xx SMTP replies, invalid addresses, unusable configuration and messages that cannot be
    /// built, which would fail the same way every time.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::InvalidAddress(_) | Self::Config(_) | Self::Build(_) => false,
            Self::Smtp(error) => smtp_is_retryable(error),
            Self::Sendmail(_) | Self::NoResponse | Self::Timeout(_) => true,
            Self::Simulated { retryable } => *retryable,
        }
    }

    /// The SMTP reply code, when the relay answered with an error.
    #[must_use]
    pub fn smtp_code(&self) -> Option<String> {
        match self {
            Self::Smtp(error) => error.status().map(|code| code.to_string()),
            _ => None,
        }
    }
}

fn smtp_is_retryable(error: &lettre::transport::smtp::Error) -> bool {
    if error.is_permanent() {
        // 5xx: the relay will say the same next time.
        return false;
    }
    if error.is_transient() || error.is_timeout() {
        return true;
    }
    // A client error is ours (no common authentication mechanism, a malformed command):
    // repeating it changes nothing. Connection, network, TLS and garbled replies may pass.
    !error.is_client()
}

/// Shows an error with its chain of causes, `a: b: c`.
pub(crate) struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
