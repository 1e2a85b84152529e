//! `/api/admin/v1`: one module per resource, one per operation inside it.

pub mod personal_sessions;
pub mod site_config;
pub mod users;
pub mod version;

use aide::axum::{ApiRouter, routing::get_with};
use portcullis_http::AppState;

pub fn routes() -> ApiRouter<AppState> {
    let router = ApiRouter::new()
        .api_route(
            "/api/admin/v1/site-config",
            get_with(site_config::handler, site_config::doc),
        )
        .api_route(
            "/api/admin/v1/version",
            get_with(version::handler, version::doc),
        );
    personal_sessions::routes(users::routes(router))
}
