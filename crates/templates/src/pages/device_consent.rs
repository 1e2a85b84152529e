//! `device_consent.html`: asks the signed-in user whether a device that showed a user code
//! may sign in (RFC 8628).

use serde::Serialize;

use super::{ClientView, Page};
use crate::scope::ScopeView;

/// The consent form of the device authorization grant. It posts back to the page's own URL
/// the fields `csrf` and `action`, which is `allow` or `deny`.
///
/// The page warns that the code must come from a device the user holds: with this grant, an
/// attacker can start a sign-in on their own device and send the code to a victim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceConsentPage {
    /// Anti-CSRF token, echoed in the hidden `csrf` field.
    pub csrf: String,
    /// The client asking.
    pub client: ClientView,
    /// The user code the device shows, to compare.
    pub user_code: String,
    /// The requested scopes, described ([`describe_scopes`](crate::describe_scopes)).
    pub scopes: Vec<ScopeView>,
    /// Who is signed in.
    pub username: String,
    /// IP address the device made its request from, when known.
    pub requester_ip: Option<String>,
}

impl Page for DeviceConsentPage {
    const TEMPLATE: &'static str = "device_consent.html";
}
