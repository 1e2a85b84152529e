//! `/api/admin/v1`: one module per resource, one per operation inside it.

pub mod compat_sessions;
pub mod known;
pub mod login_tokens;
pub mod oauth2_clients;
pub mod oauth2_sessions;
pub mod personal_sessions;
pub mod policy_data;
pub mod sessions;
pub mod site_config;
pub mod upstream_oauth_links;
pub mod upstream_oauth_providers;
pub mod user_emails;
pub mod user_registration_tokens;
pub mod user_sessions;
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
    let router = users::routes(router);
    let router = personal_sessions::routes(router);
    let router = login_tokens::routes(router);
    let router = user_sessions::routes(router);
    let router = oauth2_sessions::routes(router);
    let router = compat_sessions::routes(router);
    let router = user_emails::routes(router);
    let router = oauth2_clients::routes(router);
    let router = user_registration_tokens::routes(router);
    let router = upstream_oauth_links::routes(router);
    let router = upstream_oauth_providers::routes(router);
    policy_data::routes(router)
}
