//! `branding`: names and links shown on pages, in emails and in the discovery document.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::problem::Problem;

/// Service name and legal links.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct BrandingConfig {
    /// Human-readable name of the service; the server's address when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,

    /// Privacy policy, linked in page and email footers and advertised as `op_policy_uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<Url>,

    /// Terms of service, linked in footers, advertised as `op_tos_uri`, and to be accepted at
    /// registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<Url>,

    /// Legal imprint shown in footers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imprint: Option<String>,

    /// Logo shown on some pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<Url>,
}

impl BrandingConfig {
    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (name, url) in [
            ("policy_uri", &self.policy_uri),
            ("tos_uri", &self.tos_uri),
            ("logo_uri", &self.logo_uri),
        ] {
            if let Some(url) = url {
                crate::sections::check_http_url(&mut problems, &format!("branding.{name}"), url);
            }
        }
        problems
    }
}
