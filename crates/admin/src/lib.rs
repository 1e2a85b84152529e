//! The Admin API of Portcullis, at `/api/admin/v1`, compatible with MAS's: the same paths,
//! parameters, shapes and status codes, so that scripts and dashboards written for MAS work
//! unchanged.
//!
//! Served on listeners with the `adminapi` resource. Every call needs a bearer token whose
//! scope holds `urn:mas:admin` ([`call_context`]); operations call the same service functions
//! as the pages, the CLI and the jobs. The OpenAPI 3.1 description is generated from the
//! handlers' own types (`aide`, `schemars`) and served at `/api/spec.json`, with Swagger UI,
//! embedded, at `/api/doc/`.
//!
//! Layout: [`v1`] has one module per resource, and in it one module per operation named after
//! its path (`v1/users/lock.rs` is `POST /users/{id}/lock`); each has a `handler` and a `doc`.

pub mod call_context;
pub mod error;
pub mod params;
pub mod response;
pub mod schema;
pub mod v1;

use std::sync::Arc;

use aide::{openapi::OpenApi, swagger::Swagger};
use axum::{
    Router,
    http::header,
    response::{Html, IntoResponse, Redirect},
    routing::get,
};
use portcullis_http::AppState;
use serde_json::json;

/// Where the OpenAPI description is served.
pub const SPEC_PATH: &str = "/api/spec.json";
/// Where the API explorer is served.
pub const DOC_PATH: &str = "/api/doc/";

/// The Admin API, its description and its explorer.
pub fn router() -> Router<AppState> {
    let (router, spec) = api();
    let spec: Arc<[u8]> = spec.into();
    let explorer: Arc<str> = Swagger::new(SPEC_PATH)
        .with_title("Portcullis Admin API")
        .html()
        .into();
    router
        .route(
            SPEC_PATH,
            get(move || {
                let spec = Arc::clone(&spec);
                async move { ([(header::CONTENT_TYPE, "application/json")], spec.to_vec()) }
            }),
        )
        .route(
            DOC_PATH,
            get(move || {
                let explorer = Arc::clone(&explorer);
                async move { Html(explorer.to_string()).into_response() }
            }),
        )
        .route("/api/doc", get(|| async { Redirect::permanent(DOC_PATH) }))
}

/// The operations' router and the serialised OpenAPI description.
pub fn api() -> (Router<AppState>, Vec<u8>) {
    aide::generate::extract_schemas(true);
    // Every operation states its answers in its `doc`; inferring them from the handlers' types
    // would state the success ones twice.
    aide::generate::infer_responses(false);
    aide::generate::on_error(|error| tracing::warn!(%error, "admin API description"));
    let mut api = OpenApi::default();
    let router = v1::routes().finish_api_with(&mut api, |api| {
        api.title("Portcullis Admin API")
            .version(env!("CARGO_PKG_VERSION"))
            .tag(aide::openapi::Tag {
                name: "server".to_owned(),
                description: Some("Information about the server".to_owned()),
                ..Default::default()
            })
            .tag(aide::openapi::Tag {
                name: "user".to_owned(),
                description: Some("Manage users".to_owned()),
                ..Default::default()
            })
            .tag(aide::openapi::Tag {
                name: "user-email".to_owned(),
                description: Some("Manage email addresses of users".to_owned()),
                ..Default::default()
            })
            .tag(aide::openapi::Tag {
                name: "oauth2-client".to_owned(),
                description: Some("Read OAuth 2.0 clients".to_owned()),
                ..Default::default()
            })
            .tag(aide::openapi::Tag {
                name: "user-registration-token".to_owned(),
                description: Some("Manage registration tokens".to_owned()),
                ..Default::default()
            })
            .tag(aide::openapi::Tag {
                name: "upstream-oauth-provider".to_owned(),
                description: Some("Read upstream identity providers".to_owned()),
                ..Default::default()
            })
            .tag(aide::openapi::Tag {
                name: "policy-data".to_owned(),
                description: Some("Set and read the dynamic policy data".to_owned()),
                ..Default::default()
            })
            .tag(aide::openapi::Tag {
                name: "user-session".to_owned(),
                description: Some("Manage browser sessions".to_owned()),
                ..Default::default()
            })
            .tag(aide::openapi::Tag {
                name: "oauth2-session".to_owned(),
                description: Some("Manage OAuth 2.0 sessions".to_owned()),
                ..Default::default()
            })
            .tag(aide::openapi::Tag {
                name: "compat-session".to_owned(),
                description: Some("Manage sessions of the Matrix login API".to_owned()),
                ..Default::default()
            })
            .tag(aide::openapi::Tag {
                name: "personal-session".to_owned(),
                description: Some("Manage personal sessions and their access tokens".to_owned()),
                ..Default::default()
            })
    });
    let mut document = serde_json::to_value(&api).unwrap_or_else(|_| json!({}));
    // How to authenticate, stated once for every operation: a token whose scope holds
    // `urn:mas:admin`, from the token endpoint or a personal access token.
    document["components"]["securitySchemes"] = json!({
        "oauth2": {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/oauth2/token",
                    "scopes": {"urn:mas:admin": "Grant access to the admin API"}
                },
                "authorizationCode": {
                    "authorizationUrl": "/authorize",
                    "tokenUrl": "/oauth2/token",
                    "scopes": {"urn:mas:admin": "Grant access to the admin API"}
                }
            }
        },
        "token": {"type": "http", "scheme": "bearer"}
    });
    document["security"] = json!([{"oauth2": ["urn:mas:admin"]}, {"token": ["urn:mas:admin"]}]);
    let spec = serde_json::to_vec_pretty(&document).unwrap_or_default();
    (router, spec)
}
