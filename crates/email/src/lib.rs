//! Sending the service's emails (verification codes, password recovery).
//!
//! A [`Mailer`] is built once from the `email` section of the configuration
//! ([`Mailer::from_config`]) and sends [`OutgoingEmail`]s: each becomes a `multipart/alternative`
//! message (plain text, then HTML) with the configured `From` and `Reply-To`. This crate knows
//! no words: the contents are rendered from templates (crate `portcullis-templates`, in the
//! reader's language) by whoever queues the email. Emails are normally not sent from request
//! handlers but queued as `send-email` jobs (crate `portcullis-jobs`), so a relay that is down
//! delays them instead of losing them; [`EmailError::is_retryable`] tells the job whether trying
//! again can help.
//!
//! # Transports and configuration
//!
//! ```yaml
//! email:
//!   from: '"Portcullis" <noreply@example.com>'   # From header (a mailbox)
//!   reply_to: '"Support" <help@example.com>'     # Reply-To header (a mailbox)
//!   transport: smtp                              # blackhole (default) | smtp | sendmail
//!   # smtp only:
//!   mode: starttls          # plain | starttls | tls
//!   hostname: smtp.example.com
//!   port: 587               # default by mode: plain 25, starttls 587, tls 465
//!   username: portcullis    # optional; needs a password
//!   password: hunter2       # or password_file: /run/secrets/smtp
//!   # sendmail only:
//!   command: /usr/sbin/sendmail   # default `sendmail`, looked up in PATH
//! ```
//!
//! | transport | what it does |
//! | --- | --- |
//! | `blackhole` | accepts every email and drops it (logged at debug level) |
//! | `smtp` | talks to the relay: `plain` (no encryption), `starttls` (required upgrade) or `tls` (implicit TLS). TLS is rustls with the Mozilla roots (`webpki-roots`). Credentials are optional; PLAIN or LOGIN is used as the relay offers. Every network operation times out after [`SMTP_TIMEOUT`], a whole sending after [`SEND_TIMEOUT`]. One connection per email (no pool). |
//! | `sendmail` | pipes the message to `command -i -f <from> -- <to>` |
//! | in-memory ([`Mailer::memory`]) | for tests only: keeps the emails, read them with [`Mailer::sent`] |
//!
//! [`Mailer::test_connection`] checks a configuration the way `doctor` does: the SMTP relay
//! answers `NOOP` (after TLS and authentication), the sendmail command exists.
//!
//! [`parse_address`] is the address check used for recipients; forms collecting addresses use
//! it too, so whatever they accept can be sent to.

mod address;
mod error;
mod memory;

use std::{fmt, future::Future, path::Path, sync::Arc, time::Duration};

use lettre::{
    AsyncSendmailTransport, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
    },
};
use portcullis_config::{
    EmailConfig,
    sections::email::{EmailSmtpMode, EmailTransportKind},
};
use serde::{Deserialize, Serialize};

pub use crate::{
    address::{Address, MAX_ADDRESS_LENGTH, parse_address},
    error::{AddressProblem, EmailError, InvalidAddress},
    memory::{SentEmail, SimulatedFailure},
};
use crate::{error::Chain, memory::Outbox};

/// How long the SMTP client waits for any one network operation (connect, reply, write).
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long sending one email may take in all, whatever the transport; well below the worker's
/// job lease, so a stuck relay cannot make a job run twice at once.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(120);

/// The sender of mailers made without a configuration, as `EmailConfig`'s default.
const DEFAULT_SENDER: &str = "\"Authentication Service\" <root@localhost>";

/// An email to send: one recipient, a subject and the same contents as text and as HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingEmail {
    /// The recipient's address (`user@example.com`, no display name).
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body: a whole document, with every outside value escaped.
    pub html: String,
}

/// Which transport a mailer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Drops every email.
    Blackhole,
    /// An SMTP relay.
    Smtp,
    /// A local sendmail command.
    Sendmail,
    /// Keeps emails in memory (tests).
    Memory,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Blackhole => "blackhole",
            Self::Smtp => "smtp",
            Self::Sendmail => "sendmail",
            Self::Memory => "memory",
        })
    }
}

#[derive(Clone)]
enum Transport {
    Blackhole,
    Smtp {
        transport: Arc<AsyncSmtpTransport<Tokio1Executor>>,
        relay: String,
    },
    Sendmail {
        transport: Arc<AsyncSendmailTransport<Tokio1Executor>>,
        command: String,
    },
    Memory(Outbox),
}

/// Sends emails through the configured transport. Cheap to clone; clones share the transport
/// (and, for the in-memory one, the emails sent).
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    reply_to: Mailbox,
    transport: Transport,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the transports' own Debug: the SMTP client's would show the credentials.
        let mut debug = f.debug_struct("Mailer");
        debug
            .field("transport", &self.transport_kind())
            .field("from", &self.from.to_string())
            .field("reply_to", &self.reply_to.to_string());
        match &self.transport {
            Transport::Smtp { relay, .. } => debug.field("relay", relay),
            Transport::Sendmail { command, .. } => debug.field("command", command),
            Transport::Blackhole | Transport::Memory(_) => &mut debug,
        }
        .finish()
    }
}

impl Mailer {
    /// The mailer the `email` section describes. The SMTP password file, if any, is read now.
    ///
    /// # Errors
    /// [`EmailError::Config`] when `from` or `reply_to` is not a mailbox, the SMTP transport
    /// lacks its mode or host name, credentials are half given, or the password file cannot be
    /// read.
    pub fn from_config(config: &EmailConfig) -> Result<Self, EmailError> {
        let from = parse_mailbox("from", &config.from)?;
        let reply_to = parse_mailbox("reply_to", &config.reply_to)?;
        let transport = match config.transport {
            EmailTransportKind::Blackhole => Transport::Blackhole,
            EmailTransportKind::Sendmail => Transport::Sendmail {
                transport: Arc::new(AsyncSendmailTransport::new_with_command(config.command())),
                command: config.command().to_owned(),
            },
            EmailTransportKind::Smtp => smtp_transport(config)?,
        };
        Ok(Self {
            from,
            reply_to,
            transport,
        })
    }

    /// A mailer that drops every email.
    #[must_use]
    pub fn blackhole() -> Self {
        Self::with_transport(Transport::Blackhole)
    }

    /// A mailer that keeps every email in memory, for tests: see [`Mailer::sent`]. Its clones
    /// share the emails.
    #[must_use]
    pub fn memory() -> Self {
        Self::with_transport(Transport::Memory(Outbox::default()))
    }

    fn with_transport(transport: Transport) -> Self {
        let sender: Mailbox = DEFAULT_SENDER
            .parse()
            .expect("the built-in sender is a mailbox");
        Self {
            from: sender.clone(),
            reply_to: sender,
            transport,
        }
    }

    /// Which transport this mailer uses.
    #[must_use]
    pub fn transport_kind(&self) -> TransportKind {
        match self.transport {
            Transport::Blackhole => TransportKind::Blackhole,
            Transport::Smtp { .. } => TransportKind::Smtp,
            Transport::Sendmail { .. } => TransportKind::Sendmail,
            Transport::Memory(_) => TransportKind::Memory,
        }
    }

    /// The `From` mailbox, e.g. `"Portcullis" <noreply@example.com>`.
    #[must_use]
    pub fn from_mailbox(&self) -> String {
        self.from.to_string()
    }

    /// The `Reply-To` mailbox.
    #[must_use]
    pub fn reply_to_mailbox(&self) -> String {
        self.reply_to.to_string()
    }

    /// Sends `email`.
    ///
    /// # Errors
    /// When the recipient is not a valid address or the transport does not take the email; see
    /// [`EmailError::is_retryable`] for whether to try again.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<(), EmailError> {
        let message = self.message(email)?;
        match &self.transport {
            Transport::Blackhole => {
                tracing::debug!(
                    email.to = %email.to,
                    email.subject = %email.subject,
                    "email dropped: the email transport is `blackhole`"
                );
                Ok(())
            }
            Transport::Memory(outbox) => outbox.deliver(email, &message),
            Transport::Smtp { transport, relay } => {
                let response = within_deadline(transport.send(message))
                    .await?
                    .map_err(EmailError::Smtp)?;
                tracing::debug!(
                    email.to = %email.to,
                    smtp.relay = %relay,
                    smtp.reply = %response.code(),
                    "email handed to the SMTP relay"
                );
                Ok(())
            }
            Transport::Sendmail { transport, command } => {
                within_deadline(transport.send(message))
                    .await?
                    .map_err(EmailError::Sendmail)?;
                tracing::debug!(email.to = %email.to, sendmail.command = %command, "email handed to sendmail");
                Ok(())
            }
        }
    }

    /// `email` as it goes on the wire (RFC 5322 with CRLF line endings), with this mailer's
    /// headers: for previews and tests.
    ///
    /// # Errors
    /// When the recipient is not a valid address.
    pub fn formatted(&self, email: &OutgoingEmail) -> Result<Vec<u8>, EmailError> {
        Ok(self.message(email)?.formatted())
    }

    fn message(&self, email: &OutgoingEmail) -> Result<Message, EmailError> {
        let to = parse_address(&email.to)?;
        // Message ids under the sender's domain, as relays and spam filters expect.
        let message_id = format!("<{}@{}>", ulid::Ulid::new(), self.from.email.domain());
        // Headers are encoded by lettre; line breaks in a subject still have no business there.
        let subject: String = email
            .subject
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        Message::builder()
            .from(self.from.clone())
            .reply_to(self.reply_to.clone())
            .to(Mailbox::new(None, to))
            .subject(subject)
            .message_id(Some(message_id))
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(EmailError::Build)
    }

    /// Checks that emails can leave: the SMTP relay is reachable, completes TLS and
    /// authentication, and answers `NOOP`; the sendmail command exists. Always fine for the
    /// blackhole and in-memory transports.
    ///
    /// # Errors
    /// What stands in the way.
    pub async fn test_connection(&self) -> Result<(), EmailError> {
        match &self.transport {
            Transport::Blackhole | Transport::Memory(_) => Ok(()),
            Transport::Smtp { transport, .. } => {
                match within_deadline(transport.test_connection()).await? {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(EmailError::NoResponse),
                    Err(error) => Err(EmailError::Smtp(error)),
                }
            }
            Transport::Sendmail { command, .. } => {
                if command_exists(command) {
                    Ok(())
                } else {
                    Err(EmailError::Config(format!(
                        "the sendmail command `{command}` is not found"
                    )))
                }
            }
        }
    }

    /// The emails the in-memory transport took, oldest first; empty for other transports.
    #[must_use]
    pub fn sent(&self) -> Vec<SentEmail> {
        match &self.transport {
            Transport::Memory(outbox) => outbox.sent(),
            _ => Vec::new(),
        }
    }

    /// Like [`sent`](Self::sent), and forgets them.
    #[must_use]
    pub fn take_sent(&self) -> Vec<SentEmail> {
        match &self.transport {
            Transport::Memory(outbox) => outbox.take(),
            _ => Vec::new(),
        }
    }

    /// Makes the in-memory transport fail every sending until called with `None`; no effect on
    /// other transports.
    pub fn set_failure(&self, failure: Option<SimulatedFailure>) {
        if let Transport::Memory(outbox) = &self.transport {
            outbox.set_failure(failure);
        }
    }
}

fn parse_mailbox(key: &str, value: &str) -> Result<Mailbox, EmailError> {
    value.parse().map_err(|error| {
        EmailError::Config(format!(
            "`email.{key}`: `{value}` is not a mailbox such as '\"Name\" <user@example.com>' ({})",
            Chain(&error)
        ))
    })
}

fn smtp_transport(config: &EmailConfig) -> Result<Transport, EmailError> {
    let mode = config.mode.ok_or_else(|| {
        EmailError::Config("`email.mode` is required by the smtp transport".to_owned())
    })?;
    let hostname = config.hostname.as_deref().ok_or_else(|| {
        EmailError::Config("`email.hostname` is required by the smtp transport".to_owned())
    })?;
    let port = config.port.map_or(mode.default_port(), |port| port.get());
    let tls_parameters = || {
        TlsParameters::builder(hostname.to_owned())
            .build_rustls()
            .map_err(|error| {
                EmailError::Config(format!(
                    "cannot set up TLS towards `{hostname}`: {}",
                    Chain(&error)
                ))
            })
    };
    let tls = match mode {
        EmailSmtpMode::Plain => Tls::None,
        EmailSmtpMode::StartTls => Tls::Required(tls_parameters()?),
        EmailSmtpMode::Tls => Tls::Wrapper(tls_parameters()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(hostname)
        .port(port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    match (&config.username, config.password()) {
        (Some(username), Some(password)) => {
            let password = password.read_string().map_err(|error| {
                EmailError::Config(format!("cannot read `email.password_file`: {error}"))
            })?;
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err(EmailError::Config(
                "`email.username` is set without a password".to_owned(),
            ));
        }
        (None, Some(_)) => {
            return Err(EmailError::Config(
                "`email.password` is set without a username".to_owned(),
            ));
        }
    }
    Ok(Transport::Smtp {
        transport: Arc::new(builder.build()),
        relay: format!("{hostname}:{port} ({})", mode_name(mode)),
    })
}

fn mode_name(mode: EmailSmtpMode) -> &'static str {
    match mode {
        EmailSmtpMode::Plain => "plain",
        EmailSmtpMode::StartTls => "starttls",
        EmailSmtpMode::Tls => "tls",
    }
}

async fn within_deadline<T>(operation: impl Future<Output = T>) -> Result<T, EmailError> {
    tokio::time::timeout(SEND_TIMEOUT, operation)
        .await
        .map_err(|_| EmailError::Timeout(SEND_TIMEOUT))
}

/// Whether `command` names an existing file: as a path when it has a `/`, else in `PATH`.
fn command_exists(command: &str) -> bool {
    if command.contains('/') {
        return Path::new(command).is_file();
    }
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|directory| directory.join(command).is_file())
    })
}

#[cfg(test)]
mod tests;
