//! `consent.html`: asks the signed-in user whether a client may have the scopes it requested.

use serde::Serialize;

use super::Page;
use crate::{
    scope::ScopeView,
    urls::{https_image, web_link},
};

/// What a consent page shows about a client. Its links come from the client's own
/// registration, so only web URLs are rendered (an `https:` one for the logo); anything else
/// is left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientView {
    /// The client's ID, shown when it has no name.
    pub client_id: String,
    /// The client's name.
    pub name: Option<String>,
    /// Its logo; shown only if `https:`.
    #[serde(serialize_with = "https_image")]
    pub logo_uri: Option<String>,
    /// Its home page.
    #[serde(serialize_with = "web_link")]
    pub client_uri: Option<String>,
    /// Its privacy policy.
    #[serde(serialize_with = "web_link")]
    pub policy_uri: Option<String>,
    /// Its terms of service.
    #[serde(serialize_with = "web_link")]
    pub tos_uri: Option<String>,
}

impl ClientView {
    /// A client known only by its ID.
    #[must_use]
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            name: None,
            logo_uri: None,
            client_uri: None,
            policy_uri: None,
            tos_uri: None,
        }
    }
}

/// The consent form of the authorization code flow. It posts back to the page's own URL the
/// fields `csrf` and `action`, which is `allow` or `deny`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentPage {
    /// Anti-CSRF token, echoed in the hidden `csrf` field.
    pub csrf: String,
    /// The client asking.
    pub client: ClientView,
    /// The requested scopes, described ([`describe_scopes`](crate::describe_scopes)).
    pub scopes: Vec<ScopeView>,
    /// Who is signed in, so that nobody consents for the wrong account.
    pub username: String,
}

impl Page for ConsentPage {
    const TEMPLATE: &'static str = "consent.html";
}
