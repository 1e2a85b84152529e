//! The emails as the HTTP layer renders them, in each language, and overridden by an operator.

use std::fs;

use portcullis_templates::{
    Site, TemplateError, Templates,
    emails::{RecoveryEmail, VerificationEmail},
};

fn embedded() -> Templates {
    Templates::load(None).expect("the embedded templates compile")
}

fn site(lang: &str, service_name: &str) -> Site {
    Site {
        lang: lang.to_owned(),
        ..Site::new(service_name)
    }
}

fn verification() -> VerificationEmail {
    VerificationEmail {
        email: "alice@example.com".to_owned(),
        code: "123456".to_owned(),
    }
}

fn recovery(username: &str, link: &str) -> RecoveryEmail {
    RecoveryEmail {
        email: "alice@example.com".to_owned(),
        username: username.to_owned(),
        recovery_link: link.to_owned(),
    }
}

#[test]
fn the_verification_email_carries_the_code_in_english() {
    let email = embedded()
        .render_email(&site("en", "Example"), &verification())
        .expect("renders");

    assert_eq!(email.subject, "Your verification code is 123456");
    assert!(email.text.starts_with("Hello,\n\n"), "{}", email.text);
    assert!(email.text.contains("\n    123456\n"), "{}", email.text);
    assert!(email.text.contains("on Example is:"), "{}", email.text);
    assert!(email.html.contains("<html lang=\"en\">"), "{}", email.html);
    assert!(email.html.contains(">123456</p>"), "{}", email.html);
}

#[test]
fn the_verification_email_is_in_french_for_a_french_reader() {
    let email = embedded()
        .render_email(&site("fr", "Example"), &verification())
        .expect("renders");

    assert_eq!(email.subject, "Votre code de vérification est 123456");
    assert!(email.text.starts_with("Bonjour,\n\n"), "{}", email.text);
    assert!(email.text.contains("sur Example :"), "{}", email.text);
    assert!(email.html.contains("<html lang=\"fr\">"), "{}", email.html);
    assert!(
        email.html.contains("vous pouvez ignorer cet e-mail"),
        "{}",
        email.html
    );
}

#[test]
fn the_recovery_email_carries_the_link_and_the_username_in_both_languages() {
    let link = "https://auth.example.com/recover/complete?ticket=abc";
    let templates = embedded();

    let english = templates
        .render_email(&site("en", "Example"), &recovery("bob", link))
        .expect("renders");
    let french = templates
        .render_email(&site("fr", "Example"), &recovery("bob", link))
        .expect("renders");

    assert_eq!(english.subject, "Reset your password on Example");
    assert!(english.text.contains("Hello bob,"), "{}", english.text);
    assert!(english.text.contains(link), "{}", english.text);
    assert!(english.html.contains(&format!("<a href=\"{link}\"")));
    assert_eq!(
        french.subject,
        "Réinitialisez votre mot de passe sur Example"
    );
    assert!(french.text.contains("Bonjour bob,"), "{}", french.text);
    assert!(french.text.contains(link), "{}", french.text);
    assert!(french.html.contains("Choisir un nouveau mot de passe"));
}

#[test]
fn values_are_escaped_in_the_html_part_only() {
    let email = embedded()
        .render_email(
            &site("en", "<b>Evil & Co</b>"),
            &recovery(
                "<script>alert(1)</script>",
                "https://auth.example.com/recover?ticket=a&x=\"><img src=x>",
            ),
        )
        .expect("renders");

    assert!(!email.html.contains("<script>"), "{}", email.html);
    assert!(!email.html.contains("<b>Evil"), "{}", email.html);
    assert!(!email.html.contains("\"><img"), "{}", email.html);
    assert!(email.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(email.html.contains("&lt;b&gt;Evil &amp; Co&lt;/b&gt;"));
    assert!(email.html.contains(
        "href=\"https://auth.example.com/recover?ticket=a&amp;x=&quot;&gt;&lt;img src=x&gt;\""
    ));
    // The subject and the text part are not HTML: they carry the values as they are.
    assert_eq!(email.subject, "Reset your password on <b>Evil & Co</b>");
    assert!(email.text.contains("Hello <script>alert(1)</script>,"));
    assert!(email.text.contains("ticket=a&x=\"><img src=x>"));
}

#[test]
fn a_line_break_in_a_value_cannot_add_a_header_through_the_subject() {
    let email = embedded()
        .render_email(
            &site("en", "Example\r\nBcc: everyone@example.com"),
            &recovery("bob", "https://auth.example.com/recover"),
        )
        .expect("renders");

    assert_eq!(
        email.subject,
        "Reset your password on Example Bcc: everyone@example.com"
    );
}

#[test]
fn an_override_of_an_email_template_wins() {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::create_dir_all(dir.path().join("emails")).expect("created");
    fs::write(
        dir.path().join("emails/verification.subject"),
        "{{ code }} is your code for {{ branding.service_name }}\n",
    )
    .expect("written");
    fs::write(
        dir.path().join("emails/verification.txt"),
        "Code: {{ code }} & more\n",
    )
    .expect("written");
    let templates = Templates::load(Some(dir.path())).expect("the overrides compile");

    let email = templates
        .render_email(&site("en", "Example"), &verification())
        .expect("renders");

    assert_eq!(email.subject, "123456 is your code for Example");
    assert_eq!(email.text, "Code: 123456 & more");
    // The HTML part was not overridden: the embedded one is used.
    assert!(email.html.contains(">123456</p>"), "{}", email.html);
}

#[test]
fn check_refuses_a_subject_template_of_several_lines() {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::create_dir_all(dir.path().join("emails")).expect("created");
    fs::write(
        dir.path().join("emails/recovery.subject"),
        "Reset your password\nBcc: everyone@example.com\n",
    )
    .expect("written");
    let templates = Templates::load(Some(dir.path())).expect("the override compiles");

    let result = templates.check_all();

    assert!(
        matches!(&result, Err(TemplateError::Check { template, .. }) if template == "emails/recovery.subject"),
        "{result:?}"
    );
}

#[test]
fn check_reports_an_email_template_that_fails_to_render() {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::create_dir_all(dir.path().join("emails")).expect("created");
    fs::write(
        dir.path().join("emails/verification.txt"),
        "Your code: {{ authentication_code.code }}\n",
    )
    .expect("written");
    let templates = Templates::load(Some(dir.path())).expect("the override compiles");

    let result = templates.check_all();

    assert!(
        matches!(&result, Err(TemplateError::Render { template, .. }) if template == "emails/verification.txt"),
        "{result:?}"
    );
}
