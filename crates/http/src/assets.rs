//! The `assets` resource: the static files the pages load, all embedded in the binary: the
//! stylesheet, `/assets/portcullis.css`, and two scripts: `/assets/copy.js`, which adds copy
//! buttons where a page shows a secret once, and `/assets/passkeys.js`, the WebAuthn glue of
//! the passkey forms (the pages work without either).
//!
//! MAS serves its single-page application's files here; our pages are rendered on the server
//! and need only the stylesheet. The `human` resource serves it too, so that a listener with
//! pages works without `assets`; a listener listing both gets it once.

use axum::{
    Router,
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::AppState;

/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/assets/portcullis.css";

/// Where the copy-button script is served.
pub const COPY_SCRIPT_PATH: &str = "/assets/copy.js";

/// Where the passkey script is served.
pub const PASSKEY_SCRIPT_PATH: &str = "/assets/passkeys.js";

/// The logos of the known `brand_name`s of upstream providers (see `assets/brands/README.md`),
/// served at `/assets/brands/{brand}.svg`.
const BRAND_LOGOS: &[(&str, &str)] = &[
    ("apple", include_str!("../assets/brands/apple.svg")),
    ("authentik", include_str!("../assets/brands/authentik.svg")),
    ("facebook", include_str!("../assets/brands/facebook.svg")),
    ("github", include_str!("../assets/brands/github.svg")),
    ("gitlab", include_str!("../assets/brands/gitlab.svg")),
    ("google", include_str!("../assets/brands/google.svg")),
    ("keycloak", include_str!("../assets/brands/keycloak.svg")),
    ("twitter", include_str!("../assets/brands/twitter.svg")),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(STYLESHEET_PATH, get(stylesheet))
        .route(COPY_SCRIPT_PATH, get(copy_script))
        .route(PASSKEY_SCRIPT_PATH, get(passkey_script))
        .route("/assets/brands/{file}", get(brand_logo))
}

/// The path of the logo of `brand`, if it is a known one.
#[must_use]
pub fn brand_logo_path(brand: &str) -> Option<String> {
    BRAND_LOGOS
        .iter()
        .any(|(name, _)| *name == brand)
        .then(|| format!("/assets/brands/{brand}.svg"))
}

async fn brand_logo(Path(file): Path<String>) -> Response {
    let logo = file
        .strip_suffix(".svg")
        .and_then(|brand| BRAND_LOGOS.iter().find(|(name, _)| *name == brand));
    match logo {
        Some((_, svg)) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            *svg,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The passkey script, embedded in the binary.
async fn passkey_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/passkeys.js"),
    )
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
