//! The `compat` resource: the Matrix login API (`/_matrix/client/{v3,r0}/login`, `logout`,
//! `logout/all`, `refresh` and the single sign-on redirect) for clients and bots that do not
//! speak OAuth 2.0.
//!
//! They get compatibility sessions, one per Matrix device, with `mct_` access tokens and, when
//! they ask for them, `mcr_` refresh tokens; the homeserver learns about them through
//! introspection like any other token. The API answers in the Matrix way (`{"errcode",
//! "error"}`, [`error::MatrixError`]) and allows calls from any origin, as web clients make
//! them. The single sign-on consent page ([`sso_complete`]) is a page of the `human` resource.

pub mod error;
pub mod login;
pub mod logout;
pub mod logout_all;
pub mod refresh;
pub mod request;
pub mod sso_complete;
pub mod sso_redirect;

use axum::{
    Router,
    routing::{get, post},
};

use crate::AppState;

/// The versions of the client-server API the login endpoints are served under.
const VERSIONS: &[&str] = &["v3", "r0"];

pub fn router() -> Router<AppState> {
    let mut api = Router::new();
    for version in VERSIONS {
        let base = format!("/_matrix/client/{version}");
        api = api
            .route(&format!("{base}/login"), get(login::get).post(login::post))
            .route(&format!("{base}/logout"), post(logout::post))
            .route(&format!("{base}/logout/all"), post(logout_all::post))
            .route(&format!("{base}/refresh"), post(refresh::post));
    }
    // Web clients call the API from their own origin; nothing here relies on cookies.
    let api = api.layer(crate::cors::api());

    // The single sign-on redirect is a browser navigation, not an API call.
    let mut sso = Router::new();
    for version in VERSIONS {
        let base = format!("/_matrix/client/{version}/login/sso/redirect");
        sso = sso
            .route(&base, get(sso_redirect::get))
            .route(&format!("{base}/"), get(sso_redirect::get))
            .route(&format!("{base}/{{idp}}"), get(sso_redirect::get_with_idp));
    }
    api.merge(sso)
}

/// The consent page of single sign-on, served with the `human` resource as in MAS.
pub fn pages() -> Router<AppState> {
    Router::new().route(
        "/complete-compat-sso/{id}",
        get(sso_complete::get).post(sso_complete::post),
    )
}
