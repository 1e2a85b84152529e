//! Serialisers that keep dangerous URLs out of pages.
//!
//! Links and images given by a client (its logo, home page, policies) end up in `href` and
//! `src` attributes. Escaping stops them from breaking out of the attribute, but not a
//! `javascript:` URL from running when clicked, so only web URLs are let through.

use serde::{Serialize, Serializer, ser::Error as _};

fn has_scheme(url: &str, schemes: &[&str]) -> bool {
    url.split_once(':').is_some_and(|(scheme, rest)| {
        rest.starts_with("//") && schemes.iter().any(|s| scheme.eq_ignore_ascii_case(s))
    })
}

/// Whether `url` is an `http:` or `https:` URL.
pub(crate) fn is_web_url(url: &str) -> bool {
    has_scheme(url, &["http", "https"])
}

/// Serialises an optional link only if it is an `http:` or `https:` URL, and as none otherwise.
#[allow(
    clippy::ref_option,
    reason = "the signature serde's serialize_with requires"
)]
pub(crate) fn web_link<S: Serializer>(
    url: &Option<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    url.as_deref()
        .filter(|url| is_web_url(url))
        .serialize(serializer)
}

/// Serialises an optional image only if it is an `https:` URL, and as none otherwise: an
/// `http:` image would be mixed content, and lets anyone on the path swap the logo.
#[allow(
    clippy::ref_option,
    reason = "the signature serde's serialize_with requires"
)]
pub(crate) fn https_image<S: Serializer>(
    url: &Option<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    url.as_deref()
        .filter(|url| has_scheme(url, &["https"]))
        .serialize(serializer)
}

/// Serialises a required URL, failing the rendering if it is not `http:` or `https:`.
pub(crate) fn required_web_url<S: Serializer>(url: &str, serializer: S) -> Result<S::Ok, S::Error> {
    if is_web_url(url) {
        url.serialize(serializer)
    } else {
        Err(S::Error::custom(
            "refusing a URL that is not http: or https:",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_http_urls_are_web_urls() {
        assert!(is_web_url("https://client.example/"));
        assert!(is_web_url("HTTP://client.example/"));
    }

    #[test]
    fn a_javascript_url_is_not_a_web_url() {
        assert!(!is_web_url("javascript://%0aalert(1)"));
        assert!(!is_web_url("javascript:alert(1)"));
    }

    #[test]
    fn a_relative_or_schemeless_url_is_not_a_web_url() {
        assert!(!is_web_url("//client.example/"));
        assert!(!is_web_url("/path"));
    }
}
