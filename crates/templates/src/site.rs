//! What every page shows around its content: the language, where the service is mounted, and
//! the operator's branding.

use serde::Serialize;

/// The part of every page's context that comes from the server rather than the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// Language of the page, as a BCP 47 tag (`en`, `pt-BR`), for `<html lang>`.
    pub lang: String,
    /// Path under which the service is mounted, without a trailing slash: empty at the root of
    /// the domain, `/auth` under a prefix. Prefixes the stylesheet and the home link.
    pub base_path: String,
    /// Names and legal links.
    pub branding: Branding,
}

impl Site {
    /// English pages at the root of the domain, with only a service name.
    #[must_use]
    pub fn new(service_name: impl Into<String>) -> Self {
        Self {
            lang: "en".to_owned(),
            base_path: String::new(),
            branding: Branding::new(service_name),
        }
    }
}

/// The operator's names and links (the `branding` configuration section).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Branding {
    /// Shown in the header and page titles; the server's name when the configuration has none.
    pub service_name: String,
    /// Privacy policy, linked in the footer.
    pub policy_uri: Option<String>,
    /// Terms of service, linked in the footer.
    pub tos_uri: Option<String>,
    /// Legal imprint, shown as text in the footer.
    pub imprint: Option<String>,
}

impl Branding {
    /// A service name without links.
    #[must_use]
    pub fn new(service_name: impl Into<String>) -> Self {
        Self {
            service_name: service_name.into(),
            policy_uri: None,
            tos_uri: None,
            imprint: None,
        }
    }
}
