//! The `graphql` resource, accepted so that MAS configurations (whose default listener lists it)
//! start unchanged, but not served: MAS's GraphQL API exists for its React account pages, which
//! are server-rendered pages here, and MAS itself deprecates using it from outside. Requests to
//! `/graphql` get a GraphQL-shaped error saying so.

use axum::{
    Json, Router,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::any,
};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/graphql", any(not_served))
        .route("/graphql/{*rest}", any(not_served))
}

async fn not_served() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({
            "errors": [{
                "message": "this server has no GraphQL API: its account pages are at /account/, and administration is `mas-cli manage`"
            }]
        })),
    )
        .into_response()
}
