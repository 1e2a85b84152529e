//! `error.html`: something went wrong, said for a person.

use serde::Serialize;

use super::Page;

/// An error page with a link home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorPage {
    /// Short heading: "This link has expired".
    pub title: String,
    /// What happened and what to do, in a sentence or two.
    pub message: String,
    /// Technical details (an OAuth error code, a request ID), folded away.
    pub details: Option<String>,
}

impl Page for ErrorPage {
    const TEMPLATE: &'static str = "error.html";
}
