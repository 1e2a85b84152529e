//! `logged_out.html`: confirms that the browser session has ended.

use serde::Serialize;

use super::Page;

/// The signed-out confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedOutPage {
    /// Where to sign in again.
    pub login_url: Option<String>,
}

impl Page for LoggedOutPage {
    const TEMPLATE: &'static str = "logged_out.html";
}
