//! Message building and transport selection.

use portcullis_config::{Port, Secret};

use super::*;

fn smtp_config() -> EmailConfig {
    EmailConfig {
        from: "\"Portcullis\" <noreply@example.com>".to_owned(),
        reply_to: "\"Support\" <help@example.com>".to_owned(),
        transport: EmailTransportKind::Smtp,
        mode: Some(EmailSmtpMode::StartTls),
        hostname: Some("smtp.example.com".to_owned()),
        ..EmailConfig::default()
    }
}

fn email() -> OutgoingEmail {
    OutgoingEmail {
        to: "alice@example.org".to_owned(),
        subject: "Your verification code is 123456".to_owned(),
        text: "Your code is 123456.".to_owned(),
        html: "<p>Your code is <b>123456</b> &amp; more.</p>".to_owned(),
    }
}

fn configured(config: &EmailConfig) -> Mailer {
    Mailer::from_config(config).expect("a valid configuration")
}

/// The value of the header `name` of the message `raw`, unfolded.
fn header(raw: &str, name: &str) -> Option<String> {
    let block = raw.split("\r\n\r\n").next().expect("a header block");
    block.replace("\r\n ", " ").split("\r\n").find_map(|line| {
        line.split_once(": ")
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.to_owned())
    })
}

/// Quoted-printable `text` decoded (ASCII contents only).
fn decode_quoted_printable(text: &str) -> String {
    let text = text.replace("=\r\n", "");
    let mut decoded = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find('=') {
        decoded.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3).expect("two hex digits");
        decoded.push(char::from(u8::from_str_radix(code, 16).expect("hex")));
        rest = &rest[at + 3..];
    }
    decoded.push_str(rest);
    decoded
}

#[test]
fn the_message_has_the_configured_headers() {
    let mailer = configured(&smtp_config());
    let raw = String::from_utf8(mailer.formatted(&email()).expect("built")).expect("ASCII");

    assert_eq!(
        header(&raw, "From").as_deref(),
        Some("Portcullis <noreply@example.com>")
    );
    assert_eq!(
        header(&raw, "Reply-To").as_deref(),
        Some("Support <help@example.com>")
    );
    assert_eq!(header(&raw, "To").as_deref(), Some("alice@example.org"));
    assert_eq!(
        header(&raw, "Subject").as_deref(),
        Some("Your verification code is 123456")
    );
    assert_eq!(header(&raw, "MIME-Version").as_deref(), Some("1.0"));
    assert!(header(&raw, "Date").is_some());
    let message_id = header(&raw, "Message-ID").expect("a message id");
    assert!(message_id.starts_with('<') && message_id.ends_with("@example.com>"));
}

#[test]
fn the_message_is_multipart_alternative_text_then_html() {
    let mailer = configured(&smtp_config());
    let raw = String::from_utf8(mailer.formatted(&email()).expect("built")).expect("ASCII");

    let content_type = header(&raw, "Content-Type").expect("a content type");
    assert!(
        content_type.starts_with("multipart/alternative;"),
        "{content_type}"
    );
    let boundary = content_type
        .split("boundary=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a boundary");
    let parts: Vec<&str> = raw
        .split(&format!("--{boundary}"))
        .skip(1)
        .filter(|part| !part.starts_with("--"))
        .collect();
    assert_eq!(parts.len(), 2, "{raw}");
    assert!(parts[0].contains("Content-Type: text/plain; charset=utf-8"));
    assert!(parts[0].contains("Your code is 123456."));
    assert!(parts[1].contains("Content-Type: text/html; charset=utf-8"));
    assert!(parts[1].contains("<p>Your code is <b>123456</b> &amp; more.</p>"));
    assert!(raw.trim_end().ends_with(&format!("--{boundary}--")));
}

#[test]
fn an_escaped_html_body_keeps_its_escaping_on_the_wire() {
    let mailer = Mailer::memory();
    let email = OutgoingEmail {
        to: "alice@example.org".to_owned(),
        subject: "Your verification code is 123456".to_owned(),
        text: "Your code to confirm this email address on <Evil> is: 123456\n".to_owned(),
        html: "<p>Your code on <strong>&lt;Evil&gt;</strong> is 123456.</p>".to_owned(),
    };
    let raw = String::from_utf8(mailer.formatted(&email).expect("built")).expect("ASCII");
    let html_part = raw.split("text/html").nth(1).expect("an HTML part");
    let body = html_part.split("\r\n\r\n").nth(1).expect("a body");
    let html = decode_quoted_printable(body);
    assert!(html.contains("<strong>&lt;Evil&gt;</strong>"), "{html}");
    assert!(!html.contains("<Evil>"));
    // The text part carries the name as it is.
    assert!(raw.contains("this email address on <Evil> is:"));
}

#[test]
fn line_breaks_in_the_subject_cannot_add_headers() {
    let mailer = Mailer::memory();
    let mut injected = email();
    injected.subject = "Hello\r\nBcc: eve@example.net\nX-Evil: 1".to_owned();
    let raw = String::from_utf8(mailer.formatted(&injected).expect("built")).expect("ASCII");
    assert!(header(&raw, "Bcc").is_none(), "{raw}");
    assert!(header(&raw, "X-Evil").is_none(), "{raw}");
}

#[test]
fn non_ascii_subjects_are_encoded() {
    let mailer = Mailer::memory();
    let mut accented = email();
    accented.subject = "Votre code est 123456 — merci".to_owned();
    let raw = mailer.formatted(&accented).expect("built");
    let raw = String::from_utf8(raw).expect("the headers are ASCII");
    let subject = header(&raw, "Subject").expect("a subject");
    assert!(subject.contains("=?utf-8?b?"), "{subject}");
    assert!(!subject.contains('—'));
}

#[test]
fn an_invalid_recipient_is_a_permanent_error() {
    let mailer = Mailer::memory();
    for to in ["not an address", "Alice <alice@example.org>", ""] {
        let mut bad = email();
        bad.to = to.to_owned();
        let error = mailer.formatted(&bad).expect_err("refused");
        assert!(matches!(error, EmailError::InvalidAddress(_)), "{error}");
        assert!(!error.is_retryable());
    }
}

#[test]
fn the_transport_is_the_configured_one() {
    assert_eq!(
        configured(&EmailConfig::default()).transport_kind(),
        TransportKind::Blackhole
    );
    assert_eq!(
        configured(&smtp_config()).transport_kind(),
        TransportKind::Smtp
    );
    let sendmail = EmailConfig {
        transport: EmailTransportKind::Sendmail,
        ..EmailConfig::default()
    };
    let mailer = configured(&sendmail);
    assert_eq!(mailer.transport_kind(), TransportKind::Sendmail);
    assert!(format!("{mailer:?}").contains("command: \"sendmail\""));
    assert_eq!(Mailer::memory().transport_kind(), TransportKind::Memory);
    assert_eq!(
        Mailer::blackhole().transport_kind(),
        TransportKind::Blackhole
    );
}

#[test]
fn smtp_ports_default_by_mode_and_can_be_overridden() {
    for (mode, port) in [
        (EmailSmtpMode::Plain, 25),
        (EmailSmtpMode::StartTls, 587),
        (EmailSmtpMode::Tls, 465),
    ] {
        let mailer = configured(&EmailConfig {
            mode: Some(mode),
            ..smtp_config()
        });
        let debug = format!("{mailer:?}");
        assert!(
            debug.contains(&format!("smtp.example.com:{port} (")),
            "{debug}"
        );
    }
    let mailer = configured(&EmailConfig {
        port: Port::new(2525),
        ..smtp_config()
    });
    assert!(format!("{mailer:?}").contains("smtp.example.com:2525 (starttls)"));
}

#[test]
fn the_senders_come_from_the_configuration() {
    let mailer = configured(&smtp_config());
    assert_eq!(mailer.from_mailbox(), "Portcullis <noreply@example.com>");
    assert_eq!(mailer.reply_to_mailbox(), "Support <help@example.com>");
}

#[test]
fn unusable_configurations_are_refused() {
    let cases = [
        EmailConfig {
            from: "nobody".to_owned(),
            ..EmailConfig::default()
        },
        EmailConfig {
            reply_to: "<broken".to_owned(),
            ..EmailConfig::default()
        },
        EmailConfig {
            hostname: None,
            ..smtp_config()
        },
        EmailConfig {
            mode: None,
            ..smtp_config()
        },
        EmailConfig {
            username: Some("portcullis".to_owned()),
            ..smtp_config()
        },
        EmailConfig {
            password: Some(Secret::new("hunter2")),
            ..smtp_config()
        },
        EmailConfig {
            username: Some("portcullis".to_owned()),
            password_file: Some("/nonexistent/smtp-password".into()),
            ..smtp_config()
        },
    ];
    for config in cases {
        let error = Mailer::from_config(&config).expect_err("refused");
        assert!(matches!(error, EmailError::Config(_)), "{error}");
        assert!(!error.is_retryable());
    }
}

#[test]
fn the_password_is_read_from_its_file_and_never_shown() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("smtp-password");
    std::fs::write(&path, "s3cret-from-file\n").expect("written");
    let mailer = configured(&EmailConfig {
        username: Some("portcullis".to_owned()),
        password_file: Some(path),
        ..smtp_config()
    });
    let inline = configured(&EmailConfig {
        username: Some("portcullis".to_owned()),
        password: Some(Secret::new("s3cret-inline")),
        ..smtp_config()
    });
    assert!(!format!("{mailer:?}").contains("s3cret"));
    assert!(!format!("{inline:?}").contains("s3cret"));
}

#[tokio::test]
async fn the_memory_transport_keeps_what_it_is_given() {
    let mailer = Mailer::memory();
    let clone = mailer.clone();
    clone.send(&email()).await.expect("sent");

    let sent = mailer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].email, email());
    assert_eq!(sent[0].envelope_from.as_deref(), Some("root@localhost"));
    assert_eq!(sent[0].envelope_to, vec!["alice@example.org".to_owned()]);
    assert!(
        sent[0]
            .raw_text()
            .contains("Subject: Your verification code is 123456")
    );

    assert_eq!(mailer.take_sent().len(), 1);
    assert!(mailer.sent().is_empty());
}

#[tokio::test]
async fn the_memory_transport_fails_when_told_to() {
    let mailer = Mailer::memory();
    mailer.set_failure(Some(SimulatedFailure::Temporary));
    let error = mailer.send(&email()).await.expect_err("fails");
    assert!(error.is_retryable());
    mailer.set_failure(Some(SimulatedFailure::Permanent));
    let error = mailer.send(&email()).await.expect_err("fails");
    assert!(!error.is_retryable());
    mailer.set_failure(None);
    mailer.send(&email()).await.expect("sent");
    assert_eq!(mailer.sent().len(), 1);
}

#[tokio::test]
async fn the_blackhole_takes_everything_but_invalid_addresses() {
    let mailer = Mailer::blackhole();
    mailer.send(&email()).await.expect("dropped");
    assert!(mailer.sent().is_empty());
    mailer.test_connection().await.expect("nothing to check");
    let mut bad = email();
    bad.to = "nobody".to_owned();
    assert!(mailer.send(&bad).await.is_err());
}

#[tokio::test]
async fn a_missing_sendmail_command_fails_the_check() {
    let mailer = configured(&EmailConfig {
        transport: EmailTransportKind::Sendmail,
        command: Some("/nonexistent/sendmail".to_owned()),
        ..EmailConfig::default()
    });
    let error = mailer.test_connection().await.expect_err("missing");
    assert!(
        error.to_string().contains("/nonexistent/sendmail"),
        "{error}"
    );
}
