//! `email`: how emails (verification codes, password recovery) are sent.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    problem::Problem,
    secret::{self, Presence, Secret, SecretSource},
    types::Port,
};

/// How emails leave the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailTransportKind {
    /// Emails are dropped.
    #[default]
    Blackhole,
    /// Emails go to an SMTP relay.
    Smtp,
    /// Emails are handed to a local `sendmail` command.
    Sendmail,
}

/// Encryption towards the SMTP relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EmailSmtpMode {
    /// No encryption.
    Plain,
    /// Plain, then upgraded with STARTTLS.
    StartTls,
    /// TLS from the start.
    Tls,
}

impl EmailSmtpMode {
    /// The usual port of the mode: 25, 587 or 465.
    #[must_use]
    pub fn default_port(self) -> u16 {
        match self {
            Self::Plain => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

/// Sender addresses and transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EmailConfig {
    /// `From` header, e.g. `"Auth" <auth@example.com>`.
    #[serde(default = "default_address")]
    pub from: String,

    /// `Reply-To` header.
    #[serde(default = "default_address")]
    pub reply_to: String,

    /// How emails are sent.
    #[serde(default)]
    pub transport: EmailTransportKind,

    /// SMTP: encryption mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<EmailSmtpMode>,

    /// SMTP: relay host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,

    /// SMTP: relay port; the mode's usual port when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Port>,

    /// SMTP: user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,

    /// SMTP: password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,

    /// SMTP: file holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,

    /// sendmail: the command; `sendmail` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

fn default_address() -> String {
    "\"Authentication Service\" <root@localhost>".to_owned()
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            from: default_address(),
            reply_to: default_address(),
            transport: EmailTransportKind::Blackhole,
            mode: None,
            hostname: None,
            port: None,
            username: None,
            password: None,
            password_file: None,
            command: None,
        }
    }
}

/// Whether `text` looks like a mailbox: `name <user@host>` or `user@host`.
fn is_mailbox(text: &str) -> bool {
    let address = match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => &text[open + 1..close],
        (None, None) => text.trim(),
        _ => return false,
    };
    address
        .split_once('@')
        .is_some_and(|(user, host)| !user.is_empty() && !host.is_empty() && !host.contains('@'))
}

impl EmailConfig {
    /// Where the SMTP password comes from.
    #[must_use]
    pub fn password(&self) -> Option<SecretSource> {
        secret::source(self.password.as_ref(), self.password_file.as_ref())
    }

    /// The sendmail command.
    #[must_use]
    pub fn command(&self) -> &str {
        self.command.as_deref().unwrap_or("sendmail")
    }

    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (name, value) in [("from", &self.from), ("reply_to", &self.reply_to)] {
            if !is_mailbox(value) {
                problems.push(
                    Problem::error(
                        format!("email.{name}"),
                        format!("`{value}` is not an email address"),
                    )
                    .with_hint("write e.g. '\"Auth\" <auth@example.com>'"),
                );
            }
        }
        secret::check_pair(
            &mut problems,
            "email",
            "password",
            (self.password.is_some(), self.password_file.is_some()),
            Presence::Optional,
        );
        let smtp_options = [
            ("mode", self.mode.is_some()),
            ("hostname", self.hostname.is_some()),
            ("port", self.port.is_some()),
            ("username", self.username.is_some()),
            ("password", self.password().is_some()),
        ];
        match self.transport {
            EmailTransportKind::Smtp => {
                if self.mode.is_none() {
                    problems.push(
                        Problem::error("email.mode", "missing: the SMTP transport needs a mode")
                            .with_hint("set `mode` to plain, starttls or tls"),
                    );
                }
                if self.hostname.is_none() {
                    problems.push(Problem::error(
                        "email.hostname",
                        "missing: the SMTP transport needs the relay's host name",
                    ));
                }
                match (self.username.is_some(), self.password().is_some()) {
                    (true, false) => problems.push(Problem::error(
                        "email.password",
                        "missing: a user name is set without a password",
                    )),
                    (false, true) => problems.push(Problem::error(
                        "email.username",
                        "missing: a password is set without a user name",
                    )),
                    _ => {}
                }
                if self.command.is_some() {
                    problems.push(Problem::warning(
                        "email.command",
                        "only used by the sendmail transport, ignored",
                    ));
                }
            }
            transport => {
                for (name, set) in smtp_options {
                    if set {
                        problems.push(Problem::warning(
                            format!("email.{name}"),
                            "only used by the smtp transport, ignored",
                        ));
                    }
                }
                if transport == EmailTransportKind::Blackhole && self.command.is_some() {
                    problems.push(Problem::warning(
                        "email.command",
                        "only used by the sendmail transport, ignored",
                    ));
                }
            }
        }
        problems
    }

    pub(crate) fn redact_secrets(&mut self) {
        secret::redact(&mut self.password);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes_with_and_without_a_display_name_are_accepted() {
        assert!(is_mailbox("\"Authentication Service\" <root@localhost>"));
        assert!(is_mailbox("auth@example.com"));
        assert!(!is_mailbox("not an address"));
    }

    #[test]
    fn smtp_without_a_host_is_an_error() {
        let config = EmailConfig {
            transport: EmailTransportKind::Smtp,
            mode: Some(EmailSmtpMode::Tls),
            ..EmailConfig::default()
        };
        let problems = config.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "email.hostname");
    }
}
