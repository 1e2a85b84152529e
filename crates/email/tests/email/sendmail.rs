//! The sendmail transport with a stand-in command: a shell script that records its arguments
//! and the message.
#![cfg(unix)]

use std::{os::unix::fs::PermissionsExt as _, path::Path};

use portcullis_config::{EmailConfig, sections::email::EmailTransportKind};
use portcullis_email::{Mailer, OutgoingEmail};

fn verification() -> OutgoingEmail {
    OutgoingEmail {
        to: "alice@example.org".to_owned(),
        subject: "Your verification code is 654321".to_owned(),
        text: "Your verification code is:\n\n    654321\n".to_owned(),
        html: "<p>Your verification code is:</p>\n<p>654321</p>".to_owned(),
    }
}

/// A script at `dir/name` running `body`, executable.
fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.to_str().expect("a UTF-8 path").to_owned()
}

fn mailer(command: String) -> Mailer {
    Mailer::from_config(&EmailConfig {
        from: "\"Portcullis\" <noreply@example.com>".to_owned(),
        transport: EmailTransportKind::Sendmail,
        command: Some(command),
        ..EmailConfig::default()
    })
    .expect("a valid configuration")
}

#[tokio::test]
async fn the_message_is_piped_to_the_command() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().display().to_string();
    let command = script(
        dir.path(),
        "sendmail",
        &format!("printf '%s\\n' \"$@\" > '{out}/args'\ncat > '{out}/message'"),
    );
    let mailer = mailer(command);
    mailer.test_connection().await.expect("the command exists");

    mailer.send(&verification()).await.expect("sent");

    let args = std::fs::read_to_string(dir.path().join("args")).expect("args recorded");
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        ["-i", "-f", "noreply@example.com", "--", "alice@example.org"]
    );
    let message = std::fs::read_to_string(dir.path().join("message")).expect("message recorded");
    assert!(message.contains("Subject: Your verification code is 654321"));
    assert!(message.contains("Content-Type: multipart/alternative;"));
}

#[tokio::test]
async fn a_failing_command_is_a_retryable_error() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let command = script(
        dir.path(),
        "sendmail",
        "cat > /dev/null\necho 'queue full' >&2\nexit 75",
    );
    let error = mailer(command)
        .send(&verification())
        .await
        .expect_err("the command failed");
    assert!(error.is_retryable(), "{error:?}");
}
