//! The `assets` resource: the static files the pages load, all embedded in the binary (today
//! the one stylesheet, `/assets/portcullis.css`).
//!
//! MAS serves its single-page application's files here; our pages are rendered on the server
//! and need only the stylesheet. The `human` resource serves it too, so that a listener with
//! pages works without `assets`; a listener listing both gets it once.

use axum::{Router, http::header, response::IntoResponse, routing::get};

use crate::AppState;

/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/assets/portcullis.css";

pub fn router() -> Router<AppState> {
    Router::new().route(STYLESHEET_PATH, get(stylesheet))
}

/// The one stylesheet, embedded in the binary.
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        portcullis_templates::Templates::stylesheet(),
    )
}
