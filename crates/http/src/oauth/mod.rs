//! The `oauth` resource: the OAuth 2.0 / OIDC endpoints under `/oauth2/`.

pub mod authorization;
pub mod device;
pub mod keys;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(keys::router())
}
