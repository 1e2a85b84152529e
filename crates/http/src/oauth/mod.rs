//! The `oauth` resource: the OAuth 2.0 / OIDC endpoints under `/oauth2/`.

pub mod authorization;
pub mod client_auth;
pub mod device;
pub mod end_session;
pub mod introspection;
pub mod keys;
pub mod registration;
pub mod reply;
pub mod revocation;
pub mod token;
pub mod userinfo;

use axum::{Router, routing::get};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(keys::router())
        .merge(registration::router())
        .merge(device::authorize::router())
        .merge(token::router())
        .merge(introspection::router())
        .merge(revocation::router())
        .merge(userinfo::router())
        // Web clients call every one of these from their own origin. `/authorize` and the
        // consent pages belong to the `human` resource and get no CORS.
        .layer(crate::cors::api())
}

/// The pages of the flows above, served with the `human` resource as in MAS: the authorization
/// endpoint with its consent page, the device grant's `/link` and approval page, and
/// RP-initiated logout. Pages get no CORS.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/authorize", get(authorization::get))
        .route(
            "/consent/{grant_id}",
            get(authorization::consent::get).post(authorization::consent::post),
        )
        .route("/link", get(device::link::get))
        .route(
            "/device/{id}",
            get(device::consent::get).post(device::consent::post),
        )
        .route(
            "/oauth2/logout",
            get(end_session::get).post(end_session::post),
        )
}
