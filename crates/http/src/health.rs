//! `GET /health`: 200 when the service can reach its database, 503 when it cannot.
//!
//! Load balancers and orchestrators poll it, so it does the cheapest thing that proves the
//! database answers: one trivial query.

use axum::{Router, extract::State, http::StatusCode, routing::get};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(get_health))
}

async fn get_health(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.database().ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(error) => {
            tracing::warn!(%error, "health check: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}
