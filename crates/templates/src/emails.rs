//! The emails, one context struct each, rendered from three templates that share a base name:
//! `emails/<name>.subject`, `emails/<name>.txt` and `emails/<name>.html`, the names MAS uses,
//! so that an operator's overrides sit where they did.
//!
//! The [`Site`](crate::Site) fields (`lang`, `branding`) are added by
//! [`Templates::render_email`](crate::Templates::render_email), as for pages. Values are
//! HTML-escaped in the `.html` template only: the subject and the text part are not HTML.

use serde::Serialize;

/// An email context and the base name of its templates.
pub trait Email: Serialize {
    /// The name shared by the templates, without extension (`emails/verification`).
    const TEMPLATE: &'static str;
}

/// The code that proves an address belongs to the reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerificationEmail {
    /// The address being verified, which the email is sent to.
    pub email: String,
    /// The one-time code (six digits).
    pub code: String,
}

impl Email for VerificationEmail {
    const TEMPLATE: &'static str = "emails/verification";
}

/// The one-time link that lets a user choose a new password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecoveryEmail {
    /// The address the email is sent to.
    pub email: String,
    /// The account's username (localpart).
    pub username: String,
    /// The link to the new password form.
    pub recovery_link: String,
}

impl Email for RecoveryEmail {
    const TEMPLATE: &'static str = "emails/recovery";
}

/// A rendered email: what the mailer needs besides the recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// The subject, on one line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body, a whole document.
    pub html: String,
}

/// `subject` on one line: trimmed, every run of whitespace or control characters made one
/// space. A line break in a header would end it, and let whatever follows pose as headers.
#[must_use]
pub fn one_line(subject: &str) -> String {
    subject
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_is_made_one_line() {
        assert_eq!(
            one_line("  Hello\r\nBcc: x@example.com\n"),
            "Hello Bcc: x@example.com"
        );
        assert_eq!(one_line("a\u{0}b\tc"), "a b c");
        assert_eq!(one_line("Your code is 123456"), "Your code is 123456");
    }
}
