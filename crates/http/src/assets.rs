//! The `assets` resource: the static files the pages load, all embedded in the binary: the
//! stylesheet, `/assets/portcullis.css`, and the one script, `/assets/copy.js`, which adds copy
//! buttons where a page shows a secret once (the pages work without it).
//!
//! MAS serves its single-page application's files here; our pages are rendered on the server
//! and need only the stylesheet. The `human` resource serves it too, so that a listener with
//! pages works without `assets`; a listener listing both gets it once.

use axum::{Router, http::header, response::IntoResponse, routing::get};

use crate::AppState;

/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/assets/portcullis.css";

/// Where the copy-button script is served.
pub const COPY_SCRIPT_PATH: &str = "/assets/copy.js";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(STYLESHEET_PATH, get(stylesheet))
        .route(COPY_SCRIPT_PATH, get(copy_script))
}

/// The copy-button script, embedded in the binary.
async fn copy_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/copy.js"),
    )
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
