//! The contents of the emails the service sends, in the reader's language where one is
//! available.
//!
//! Each message is a plain function returning an [`OutgoingEmail`] (subject, text and HTML
//! bodies). Every value that comes from outside (codes, names, links) is HTML-escaped in the
//! HTML body. Adding a language means adding a [`Locale`] variant: the compiler then points at
//! every message lacking its translation.

use crate::OutgoingEmail;

/// A language the messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Locale {
    /// English, the fallback for every language not translated yet.
    #[default]
    English,
}

impl Locale {
    /// Every language the messages exist in.
    pub const ALL: [Self; 1] = [Self::English];

    /// The language of a BCP 47 tag (`en`, `en-GB`, `fr`...), or English when there is no
    /// translation for it.
    #[must_use]
    pub fn from_tag(tag: &str) -> Self {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        Self::ALL
            .into_iter()
            .find(|locale| locale.tag().eq_ignore_ascii_case(primary))
            .unwrap_or_default()
    }

    /// The first language of `tags` (in order of preference) that has a translation; English
    /// when none has.
    #[must_use]
    pub fn negotiate<'a>(tags: impl IntoIterator<Item = &'a str>) -> Self {
        tags.into_iter()
            .find_map(|tag| {
                let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
                Self::ALL
                    .into_iter()
                    .find(|locale| locale.tag().eq_ignore_ascii_case(primary))
            })
            .unwrap_or_default()
    }

    /// The language's tag, as in `<html lang="...">`.
    #[must_use]
    pub fn tag(self) -> &'static str {
        match self {
            Self::English => "en",
        }
    }
}

/// `text` made safe to put in HTML text or in a quoted attribute: `&`, `<`, `>`, `"` and `'` are
/// escaped.
#[must_use]
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The HTML document around a message's `body` (already escaped).
fn html_page(locale: Locale, title: &str, body: &str) -> String {
    let lang = locale.tag();
    let title = escape_html(title);
    format!(
        "<!DOCTYPE html>\n\
         <html lang=\"{lang}\">\n\
         <head>\n\
         <meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n\
         </head>\n\
         <body style=\"margin:0;padding:24px;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1b1d22;background:#ffffff\">\n\
         <div style=\"max-width:480px;margin:0 auto\">\n\
         {body}\n\
         </div>\n\
         </body>\n\
         </html>\n"
    )
}

/// The email with the code that proves `to` is the reader's address.
///
/// `code` is the one-time code (six digits), `service_name` the name of the service as shown to
/// users.
#[must_use]
pub fn verification_code(
    locale: Locale,
    to: &str,
    service_name: &str,
    code: &str,
) -> OutgoingEmail {
    let (subject, text, html_body) = match locale {
        Locale::English => {
            let subject = format!("Your verification code is {code}");
            let text = format!(
                "Hello,\n\
                 \n\
                 Your verification code to confirm this email address on {service_name} is:\n\
                 \n\
                 {code}\n\
                 \n\
                 If you did not ask for this code, you can ignore this email.\n"
            );
            let (service_name, code) = (escape_html(service_name), escape_html(code));
            let html = format!(
                "<p>Hello,</p>\n\
                 <p>Your verification code to confirm this email address on <strong>{service_name}</strong> is:</p>\n\
                 <p style=\"font-size:32px;font-weight:bold;letter-spacing:6px;font-family:ui-monospace,Menlo,Consolas,monospace\">{code}</p>\n\
                 <p style=\"color:#656d77\">If you did not ask for this code, you can ignore this email.</p>"
            );
            (subject, text, html)
        }
    };
    OutgoingEmail {
        to: to.to_owned(),
        html: html_page(locale, &subject, &html_body),
        subject,
        text,
    }
}

/// The email with the one-time `link` that lets `username` choose a new password.
#[must_use]
pub fn password_recovery(
    locale: Locale,
    to: &str,
    service_name: &str,
    username: &str,
    link: &str,
) -> OutgoingEmail {
    let (subject, text, html_body) = match locale {
        Locale::English => {
            let subject = format!("Reset your password on {service_name}");
            let text = format!(
                "Hello {username},\n\
                 \n\
                 Someone asked to reset the password of your account on {service_name}.\n\
                 To choose a new password, open this link:\n\
                 \n\
                 {link}\n\
                 \n\
                 The link works once and expires soon. If you did not ask for it,\n\
                 you can ignore this email: your password stays as it is.\n"
            );
            let (username, service_name, link) = (
                escape_html(username),
                escape_html(service_name),
                escape_html(link),
            );
            let html = format!(
                "<p>Hello <strong>{username}</strong>,</p>\n\
                 <p>Someone asked to reset the password of your account on <strong>{service_name}</strong>.</p>\n\
                 <p><a href=\"{link}\" style=\"display:inline-block;padding:10px 20px;border-radius:8px;background:#0d6b50;color:#ffffff;text-decoration:none;font-weight:bold\">Choose a new password</a></p>\n\
                 <p>Or copy this link into your browser:<br><a href=\"{link}\">{link}</a></p>\n\
                 <p style=\"color:#656d77\">The link works once and expires soon. If you did not ask for it, you can ignore this email: your password stays as it is.</p>"
            );
            (subject, text, html)
        }
    };
    OutgoingEmail {
        to: to.to_owned(),
        html: html_page(locale, &subject, &html_body),
        subject,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(
            escape_html(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_verification_email_has_the_code_everywhere() {
        let email = verification_code(Locale::English, "alice@example.com", "Example", "123456");
        assert_eq!(email.to, "alice@example.com");
        assert_eq!(email.subject, "Your verification code is 123456");
        assert!(email.text.contains("123456"));
        assert!(email.text.contains("Example"));
        assert!(email.html.contains(">123456</p>"));
        assert!(email.html.contains("<html lang=\"en\">"));
    }

    #[test]
    fn values_are_escaped_in_html_but_not_in_text() {
        let email = password_recovery(
            Locale::English,
            "alice@example.com",
            "<b>Evil & Co</b>",
            "<script>alert(1)</script>",
            "https://auth.example.com/recover?ticket=a&x=\"><img src=x>",
        );
        assert!(!email.html.contains("<script>"));
        assert!(!email.html.contains("<b>Evil"));
        assert!(!email.html.contains("\"><img"));
        assert!(email.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(email.html.contains("&lt;b&gt;Evil &amp; Co&lt;/b&gt;"));
        assert!(email.html.contains(
            "href=\"https://auth.example.com/recover?ticket=a&amp;x=&quot;&gt;&lt;img src=x&gt;\""
        ));
        // The text part is not HTML: it carries the values as they are.
        assert!(email.text.contains("Hello <script>alert(1)</script>,"));
        assert!(email.text.contains("ticket=a&x=\"><img src=x>"));
    }

    #[test]
    fn the_recovery_email_has_the_link_and_the_user() {
        let link = "https://auth.example.com/recover?ticket=abc";
        let email = password_recovery(Locale::English, "bob@example.com", "Example", "bob", link);
        assert_eq!(email.subject, "Reset your password on Example");
        assert!(email.text.contains(link));
        assert!(email.text.contains("Hello bob,"));
        assert!(email.html.contains(&format!("<a href=\"{link}\"")));
    }

    #[test]
    fn unknown_languages_fall_back_to_english() {
        assert_eq!(Locale::from_tag("en-GB"), Locale::English);
        assert_eq!(Locale::from_tag("fr"), Locale::English);
        assert_eq!(Locale::from_tag(""), Locale::English);
        assert_eq!(Locale::negotiate(["de-DE", "en"]), Locale::English);
        assert_eq!(Locale::negotiate([]), Locale::English);
    }
}
