//! Cross-origin access (CORS) for the APIs that web clients call from their own origin.
//!
//! Element Web, Cinny and every matrix-js-sdk application run on another origin than this
//! service: they read discovery, register, exchange codes, refresh and revoke with `fetch`,
//! and the browser lets them read the answers only if we say so. These APIs never rely on
//! cookies (a client authenticates with its own credentials or a bearer token), so any origin
//! may call them, without credentials, as in MAS. The pages for people are left out on
//! purpose: they rely on the browser session's cookie and must stay same-origin.
//!
//! One definition, applied per router: `discovery`, `oauth` and the compat API.

use std::time::Duration;

use axum::http::{HeaderName, Method, header};
use tower_http::cors::{Any, CorsLayer};

/// How long a browser may reuse the answer to a preflight (an hour, as MAS).
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(60 * 60);

/// The headers clients send with their calls. The trace-context headers (W3C's, and Jaeger's
/// `uber-trace-id`, the formats `telemetry.tracing.propagators` reads) are there because
/// clients instrumented with OpenTelemetry (Element Web is) add them to every request, and a
/// preflight that does not allow them fails the whole call.
const REQUEST_HEADERS: [HeaderName; 10] = [
    header::AUTHORIZATION,
    header::ACCEPT,
    header::ACCEPT_LANGUAGE,
    header::CONTENT_LANGUAGE,
    header::CONTENT_TYPE,
    HeaderName::from_static("x-requested-with"),
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
    HeaderName::from_static("baggage"),
    HeaderName::from_static("uber-trace-id"),
];

/// The response headers a client script may read beyond the safelisted ones: the bearer
/// challenge of RFC 6750 §3 and how long to wait after a refusal.
const EXPOSED_HEADERS: [HeaderName; 2] = [header::WWW_AUTHENTICATE, header::RETRY_AFTER];

/// The CORS layer of the client-facing APIs: any origin, no credentials.
pub fn api() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(REQUEST_HEADERS)
        .expose_headers(EXPOSED_HEADERS)
        .max_age(PREFLIGHT_MAX_AGE)
}
