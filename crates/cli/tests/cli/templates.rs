//! `mas-cli templates save` and `templates check` through the real binary.

use crate::common::{mas_cli, run, stderr, stdout};

#[test]
fn saved_templates_check_and_a_broken_override_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let overrides = dir.path().join("templates");

    let saved = run(mas_cli(dir.path())
        .args(["templates", "save"])
        .arg(&overrides));
    assert!(saved.status.success(), "{}", stderr(&saved));
    assert!(overrides.join("login.html").is_file());
    assert!(overrides.join("base.html").is_file());
    for mail in ["verification", "recovery"] {
        for extension in ["subject", "txt", "html"] {
            let name = format!("emails/{mail}.{extension}");
            assert!(overrides.join(&name).is_file(), "{name} is saved");
        }
    }

    let checked = run(mas_cli(dir.path())
        .args(["templates", "check"])
        .arg(&overrides));
    assert!(checked.status.success(), "{}", stderr(&checked));
    assert!(stdout(&checked).starts_with("ok: "), "{}", stdout(&checked));

    // Saving again does not silently replace edited files.
    let again = run(mas_cli(dir.path())
        .args(["templates", "save"])
        .arg(&overrides));
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--overwrite"), "{}", stderr(&again));

    // An override with a syntax error is named, with its line.
    std::fs::write(
        overrides.join("login.html"),
        "{% extends \"base.html\" %}\n{% block content %}\n{% if %}\n{% endblock %}\n",
    )
    .expect("the override is written");
    let broken = run(mas_cli(dir.path())
        .args(["templates", "check"])
        .arg(&overrides));
    assert!(!broken.status.success());
    assert!(
        stderr(&broken).contains("login.html"),
        "{}",
        stderr(&broken)
    );
}

#[test]
fn check_renders_the_emails_and_names_a_broken_email_override() {
    let dir = tempfile::tempdir().expect("temp dir");
    let overrides = dir.path().join("templates");
    std::fs::create_dir_all(overrides.join("emails")).expect("the directory is created");
    // Compiles, but fails when rendered: the verification email has no `user`.
    std::fs::write(
        overrides.join("emails/verification.txt"),
        "Hello {{ user.username }},\n\nYour code: {{ code }}\n",
    )
    .expect("the override is written");

    let broken = run(mas_cli(dir.path())
        .args(["templates", "check"])
        .arg(&overrides));

    assert!(!broken.status.success());
    assert!(
        stderr(&broken).contains("emails/verification.txt"),
        "{}",
        stderr(&broken)
    );
}
