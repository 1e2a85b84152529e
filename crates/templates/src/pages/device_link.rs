//! `device_link.html`: where the user types the code a device shows (RFC 8628 §3.3).

use serde::Serialize;

use super::Page;

/// The code entry form. It is a GET form submitting `code` to the page's own URL, which is
/// then the same as the `verification_uri_complete` a device can show as a QR code; it
/// changes nothing, so it carries no CSRF token.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DeviceLinkPage {
    /// The code to fill in, when one was given but not accepted.
    pub code: Option<String>,
    /// Why the code was not accepted.
    pub error: Option<String>,
}

impl Page for DeviceLinkPage {
    const TEMPLATE: &'static str = "device_link.html";
}
