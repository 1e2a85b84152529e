//! What a request says about who sent it, beside its address (`client_ip`).

use axum::http::{HeaderMap, header};

/// The `User-Agent` of the request, when it is printable text.
#[must_use]
pub fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
}
