//! The SMTP transport against a real SMTP server: a small sink started by each test on the
//! loopback interface, speaking enough ESMTP (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, NOOP, RSET,
//! QUIT) to capture what lettre sends.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use base64ct::{Base64, Encoding as _};
use portcullis_config::{
    EmailConfig, Port, Secret,
    sections::email::{EmailSmtpMode, EmailTransportKind},
};
use portcullis_email::{EmailError, Mailer, OutgoingEmail};
use tokio::{
    io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader},
    net::{TcpListener, TcpStream},
};

/// One message the sink accepted.
#[derive(Debug, Clone, Default)]
struct Received {
    /// `user`, `password` of a successful AUTH PLAIN.
    auth: Option<(String, String)>,
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

#[derive(Clone, Default)]
struct SinkOptions {
    /// Refuse MAIL before AUTH with these credentials.
    credentials: Option<(String, String)>,
    /// The reply to every RCPT, `250 2.1.5 OK` when `None`.
    rcpt_reply: Option<&'static str>,
}

struct Sink {
    address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Sink {
    async fn start(options: SinkOptions) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let address = listener.local_addr().expect("bound");
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink_received = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, options.clone(), sink_received.clone()));
            }
        });
        Self { address, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("not poisoned").clone()
    }

    fn config(&self) -> EmailConfig {
        EmailConfig {
            from: "\"Portcullis\" <noreply@example.com>".to_owned(),
            reply_to: "help@example.com".to_owned(),
            transport: EmailTransportKind::Smtp,
            mode: Some(EmailSmtpMode::Plain),
            hostname: Some(self.address.ip().to_string()),
            port: Port::new(self.address.port()),
            ..EmailConfig::default()
        }
    }
}

/// One SMTP session, until QUIT or the client goes.
async fn session(stream: TcpStream, options: SinkOptions, received: Arc<Mutex<Vec<Received>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut reply = async |text: &str| {
        write
            .write_all(format!("{text}\r\n").as_bytes())
            .await
            .is_ok()
    };
    if !reply("220 sink.test ESMTP ready").await {
        return;
    }
    let mut current = Received::default();
    let mut authenticated = None;
    loop {
        let mut line = String::new();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let verb = line
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-sink.test\r\n250-AUTH PLAIN\r\n250-8BITMIME\r\n250 SMTPUTF8".to_owned(),
            "HELO" | "NOOP" => "250 2.0.0 OK".to_owned(),
            "RSET" => {
                current = Received::default();
                "250 2.0.0 OK".to_owned()
            }
            "AUTH" => {
                let initial = line.split(' ').nth(2).unwrap_or_default();
                let decoded = Base64::decode_vec(initial).unwrap_or_default();
                let parts: Vec<String> = decoded
                    .split(|byte| *byte == 0)
                    .map(|part| String::from_utf8_lossy(part).into_owned())
                    .collect();
                let given = match parts.as_slice() {
                    [_, user, password] => Some((user.clone(), password.clone())),
                    _ => None,
                };
                if given.is_some() && given == options.credentials {
                    authenticated = given;
                    "235 2.7.0 Authentication successful".to_owned()
                } else {
                    "535 5.7.8 Authentication credentials invalid".to_owned()
                }
            }
            "MAIL" if options.credentials.is_some() && authenticated.is_none() => {
                "530 5.7.0 Authentication required".to_owned()
            }
            "MAIL" => {
                current.mail_from = path(line);
                current.auth.clone_from(&authenticated);
                "250 2.1.0 OK".to_owned()
            }
            "RCPT" => match options.rcpt_reply {
                Some(refusal) => refusal.to_owned(),
                None => {
                    current.rcpt_to.push(path(line));
                    "250 2.1.5 OK".to_owned()
                }
            },
            "DATA" => {
                if !reply("354 End data with <CR><LF>.<CR><LF>").await {
                    return;
                }
                loop {
                    let mut data_line = String::new();
                    match lines.read_line(&mut data_line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if data_line == ".\r\n" {
                        break;
                    }
                    // Dot-unstuffing (RFC 5321 §4.5.2).
                    let data_line = data_line.strip_prefix('.').unwrap_or(&data_line);
                    current.data.push_str(data_line);
                }
                received
                    .lock()
                    .expect("not poisoned")
                    .push(std::mem::take(&mut current));
                "250 2.0.0 OK queued".to_owned()
            }
            "QUIT" => {
                reply("221 2.0.0 Bye").await;
                return;
            }
            _ => "502 5.5.2 Command not recognized".to_owned(),
        };
        if !reply(&answer).await {
            return;
        }
    }
}

/// The address of `MAIL FROM:<a>` / `RCPT TO:<a>`.
fn path(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}

fn verification() -> OutgoingEmail {
    OutgoingEmail {
        to: "alice@example.org".to_owned(),
        subject: "Your verification code is 123456".to_owned(),
        text: "Your verification code on Example is:\n\n123456\n".to_owned(),
        html: "<p>Your verification code on Example is:</p>\n<p>123456</p>".to_owned(),
    }
}

#[tokio::test]
async fn an_email_goes_through_plain_smtp_with_credentials() {
    let credentials = ("portcullis".to_owned(), "s3cret pass".to_owned());
    let sink = Sink::start(SinkOptions {
        credentials: Some(credentials.clone()),
        ..SinkOptions::default()
    })
    .await;
    let mailer = Mailer::from_config(&EmailConfig {
        username: Some(credentials.0.clone()),
        password: Some(Secret::new(credentials.1.clone())),
        ..sink.config()
    })
    .expect("a valid configuration");

    mailer.test_connection().await.expect("the relay answers");
    mailer.send(&verification()).await.expect("sent");

    let received = sink.received();
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.auth.as_ref(), Some(&credentials));
    assert_eq!(message.mail_from, "noreply@example.com");
    assert_eq!(message.rcpt_to, vec!["alice@example.org".to_owned()]);
    let data = &message.data;
    assert!(
        data.contains("From: Portcullis <noreply@example.com>\r\n"),
        "{data}"
    );
    assert!(data.contains("Reply-To: help@example.com\r\n"));
    assert!(data.contains("To: alice@example.org\r\n"));
    assert!(data.contains("Subject: Your verification code is 123456\r\n"));
    assert!(data.contains("Content-Type: multipart/alternative;"));
    assert!(data.contains("Content-Type: text/plain; charset=utf-8"));
    assert!(data.contains("Content-Type: text/html; charset=utf-8"));
    assert!(data.contains("\r\n123456\r\n"), "the code in the text part");
}

#[tokio::test]
async fn an_email_goes_through_plain_smtp_without_credentials() {
    let sink = Sink::start(SinkOptions::default()).await;
    let mailer = Mailer::from_config(&sink.config()).expect("a valid configuration");
    let recovery = OutgoingEmail {
        to: "bob@example.org".to_owned(),
        subject: "Reset your password on Example".to_owned(),
        text: "Hello bob,\n\nhttps://auth.example.com/recover?ticket=abc\n".to_owned(),
        html: "<p><a href=\"https://auth.example.com/recover?ticket=abc\">Choose a new password</a></p>"
            .to_owned(),
    };

    mailer.send(&recovery).await.expect("sent");
    mailer.send(&verification()).await.expect("sent");

    let received = sink.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].auth, None);
    assert_eq!(received[0].rcpt_to, vec!["bob@example.org".to_owned()]);
    assert!(
        received[0]
            .data
            .contains("Subject: Reset your password on Example")
    );
    assert!(
        received[0]
            .data
            .contains("https://auth.example.com/recover?ticket=abc")
    );
    assert_eq!(received[1].rcpt_to, vec!["alice@example.org".to_owned()]);
}

#[tokio::test]
async fn wrong_credentials_are_a_permanent_error() {
    let sink = Sink::start(SinkOptions {
        credentials: Some(("portcullis".to_owned(), "right".to_owned())),
        ..SinkOptions::default()
    })
    .await;
    let mailer = Mailer::from_config(&EmailConfig {
        username: Some("portcullis".to_owned()),
        password: Some(Secret::new("wrong")),
        ..sink.config()
    })
    .expect("a valid configuration");

    let error = mailer.send(&verification()).await.expect_err("refused");
    assert_eq!(error.smtp_code().as_deref(), Some("535"), "{error:?}");
    assert!(!error.is_retryable());
    assert!(mailer.test_connection().await.is_err());
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn a_4xx_reply_can_be_retried_and_a_5xx_cannot() {
    let busy = Sink::start(SinkOptions {
        rcpt_reply: Some("451 4.3.0 Try again later"),
        ..SinkOptions::default()
    })
    .await;
    let error = Mailer::from_config(&busy.config())
        .expect("a valid configuration")
        .send(&verification())
        .await
        .expect_err("deferred");
    assert_eq!(error.smtp_code().as_deref(), Some("451"));
    assert!(error.is_retryable(), "{error:?}");

    let refusing = Sink::start(SinkOptions {
        rcpt_reply: Some("550 5.1.1 No such user"),
        ..SinkOptions::default()
    })
    .await;
    let error = Mailer::from_config(&refusing.config())
        .expect("a valid configuration")
        .send(&verification())
        .await
        .expect_err("refused");
    assert_eq!(error.smtp_code().as_deref(), Some("550"));
    assert!(!error.is_retryable(), "{error:?}");
}

#[tokio::test]
async fn an_unreachable_relay_is_a_retryable_error() {
    // A port that was just free: nothing listens there any more.
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("bound");
    drop(listener);
    let mailer = Mailer::from_config(&EmailConfig {
        transport: EmailTransportKind::Smtp,
        mode: Some(EmailSmtpMode::Plain),
        hostname: Some(address.ip().to_string()),
        port: Port::new(address.port()),
        ..EmailConfig::default()
    })
    .expect("a valid configuration");

    let error = mailer.send(&verification()).await.expect_err("unreachable");
    assert!(matches!(error, EmailError::Smtp(_)), "{error:?}");
    assert!(error.is_retryable(), "{error:?}");
    assert!(mailer.test_connection().await.is_err());
}

#[tokio::test]
async fn starttls_is_required_when_configured() {
    // The sink does not offer STARTTLS: nothing may be sent in clear instead.
    let sink = Sink::start(SinkOptions::default()).await;
    let mailer = Mailer::from_config(&EmailConfig {
        mode: Some(EmailSmtpMode::StartTls),
        hostname: Some("localhost".to_owned()),
        ..sink.config()
    })
    .expect("a valid configuration");

    mailer
        .send(&verification())
        .await
        .expect_err("no clear-text fallback");
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn a_recipient_that_is_no_address_never_reaches_the_relay() {
    let sink = Sink::start(SinkOptions::default()).await;
    let mailer = Mailer::from_config(&sink.config()).expect("a valid configuration");
    let mut email = verification();
    email.to = "alice@example.org>\r\nRCPT TO:<eve@example.net".to_owned();

    let error = mailer.send(&email).await.expect_err("refused");
    assert!(matches!(error, EmailError::InvalidAddress(_)));
    assert!(!error.is_retryable());
    assert!(sink.received().is_empty());
}
