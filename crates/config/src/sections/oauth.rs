//! `oauth`: switches for OAuth 2.0 features.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::sections::default_true;

/// OAuth 2.0 feature switches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OAuthConfig {
    /// Offer the device authorization grant (RFC 8628).
    #[serde(default = "default_true")]
    pub device_code_grant_enabled: bool,

    /// Advertise `verification_uri_complete`, so that the user code is pre-filled at `/link`
    /// (convenient for QR codes, but lets a phishing link carry the code).
    #[serde(default)]
    pub device_code_user_code_auto_fill_enabled: bool,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self {
            device_code_grant_enabled: true,
            device_code_user_code_auto_fill_enabled: false,
        }
    }
}
