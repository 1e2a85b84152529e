//! One module per top-level section of the configuration file, named after the section.

pub mod account;
pub mod branding;
pub mod captcha;
pub mod clients;
pub mod database;
pub mod email;
pub mod experimental;
pub mod http;
pub mod matrix;
pub mod oauth;
pub mod passwords;
pub mod policy;
mod policy_data;
pub mod rate_limiting;
pub mod secrets;
pub mod telemetry;
pub mod templates;
pub mod upstream_oauth2;

use url::Url;

use crate::problem::Problem;

/// Serde default for options that are on unless turned off.
pub(crate) const fn default_true() -> bool {
    true
}

/// Serde predicate: skip a value equal to its type's default when serialising.
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Checks that `url` is an `http` or `https` URL, as every URL that browsers or the homeserver
/// follow must be.
pub(crate) fn check_http_url(problems: &mut Vec<Problem>, path: &str, url: &Url) {
    if !matches!(url.scheme(), "http" | "https") {
        problems.push(
            Problem::error(path, format!("`{url}` is not an http(s) URL"))
                .with_hint("use an address starting with https:// (or http:// for local testing)"),
        );
    }
}

/// Checks that a text option holds a URL that parses.
pub(crate) fn check_url_text(problems: &mut Vec<Problem>, path: &str, text: &str) {
    match Url::parse(text) {
        Ok(url) => check_http_url(problems, path, &url),
        Err(error) => problems.push(Problem::error(
            path,
            format!("`{text}` is not a valid URL: {error}"),
        )),
    }
}
