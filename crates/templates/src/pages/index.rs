//! `index.html`: the home page, saying who is signed in.

use serde::Serialize;

use super::Page;

/// The home page. When someone is signed in it has a sign-out form posting `csrf` to
/// `/logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexPage {
    /// Anti-CSRF token for the sign-out form.
    pub csrf: String,
    /// Who is signed in, if anyone.
    pub username: Option<String>,
}

impl Page for IndexPage {
    const TEMPLATE: &'static str = "index.html";
}
