//! A readable name for the software behind a `User-Agent`: `Firefox` on `Linux`, `Element X`
//! on `Android`. The one place user agents are interpreted; the parsing itself is `woothee`'s.

use std::sync::LazyLock;

/// What a user agent says about the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSoftware {
    /// The browser or application: `Firefox`, `Chrome`, `Element X`, `matrix-rust-sdk`.
    pub name: String,
    /// The operating system, when the user agent names one woothee knows.
    pub os: Option<String>,
}

/// The longest name shown; user agents are whatever the client sends.
const MAX_NAME: usize = 64;

static PARSER: LazyLock<woothee::parser::Parser> = LazyLock::new(woothee::parser::Parser::new);

/// The client software `user_agent` names, or `None` when it names nothing readable.
///
/// Browsers are recognised by woothee. Other clients (Matrix apps, SDKs, bots) usually start
/// with `Name/version`: the name is taken from there.
#[must_use]
pub fn describe(user_agent: &str) -> Option<ClientSoftware> {
    let user_agent = user_agent.trim();
    if user_agent.is_empty() {
        return None;
    }
    let parsed = PARSER.parse(user_agent);
    let known = |value: &str| (value != woothee::woothee::VALUE_UNKNOWN).then(|| value.to_owned());
    let os = parsed.as_ref().and_then(|result| known(result.os));
    let browser = parsed
        .as_ref()
        .filter(|result| result.category == "pc" || result.category == "smartphone")
        .and_then(|result| known(result.name));
    let name = browser.or_else(|| product_name(user_agent))?;
    Some(ClientSoftware { name, os })
}

/// `Element X/25.01 (Pixel 8; Android 14)` → `Element X`: the text before the first `/`, when
/// it is a plausible name.
fn product_name(user_agent: &str) -> Option<String> {
    let (name, _) = user_agent.split_once('/')?;
    let name = name.trim();
    let plausible = !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'));
    plausible.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(user_agent: &str) -> Option<(String, Option<String>)> {
        describe(user_agent).map(|client| (client.name, client.os))
    }

    #[test]
    fn browsers_are_named_with_their_system() {
        assert_eq!(
            described("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
            Some(("Firefox".to_owned(), Some("Linux".to_owned())))
        );
        let chrome = described(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/131.0.0.0 Safari/537.36",
        )
        .expect("present");
        assert_eq!(chrome.0, "Chrome");
        assert!(chrome.1.expect("present").starts_with("Windows"));
    }

    #[test]
    fn matrix_clients_are_named_from_their_product_token() {
        let element =
            described("Element X/25.01.0 (Google Pixel 8; Android 14; UD1A.230803.041; Sdk 1.0.0)")
                .expect("present");
        assert_eq!(element.0, "Element X");
        assert_eq!(
            described("matrix-rust-sdk/0.9.0").map(|client| client.0),
            Some("matrix-rust-sdk".to_owned())
        );
    }

    #[test]
    fn nothing_readable_is_none() {
        assert_eq!(described(""), None);
        assert_eq!(described("   "), None);
        assert_eq!(described("<script>/1"), None);
        assert_eq!(described("curl"), None);
    }
}
