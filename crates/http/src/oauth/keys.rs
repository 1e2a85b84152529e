//! `GET /oauth2/keys.json`: the public JWK Set relying parties verify our ID tokens with.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth2/keys.json", get(get_keys))
}

async fn get_keys(State(state): State<AppState>) -> Response {
    let mut response = Json(state.keystore().public_jwks()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
