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

use axum::Router;

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
