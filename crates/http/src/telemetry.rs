//! One span and two instruments per request, and the counters of MAS's metrics that the
//! handlers record.
//!
//! Every request runs inside an `http.server.request` span that carries its method, route,
//! status, database time and, once a handler knows them, the user and the client
//! ([`record_user`], [`record_client`]). The caller's trace context (as the configured
//! propagators read it) becomes the span's parent. The instruments go to the global meter,
//! which does nothing unless the binary set one up.

use std::{sync::LazyLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use opentelemetry::{
    KeyValue, global,
    metrics::{Counter, Histogram, UpDownCounter},
};
use tracing::{Instrument as _, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The meter every instrument of this crate belongs to.
const METER: &str = "portcullis";

struct Instruments {
    duration: Histogram<f64>,
    active: UpDownCounter<i64>,
    introspection: Counter<u64>,
    registration: Counter<u64>,
    token: Counter<u64>,
    compat_login: Counter<u64>,
    compat_logout: Counter<u64>,
    compat_logout_all: Counter<u64>,
    password_login: Counter<u64>,
    password_registration: Counter<u64>,
    upstream_callback: Counter<u64>,
    upstream_login: Counter<u64>,
    upstream_registration: Counter<u64>,
}

static INSTRUMENTS: LazyLock<Instruments> = LazyLock::new(|| {
    let meter = global::meter(METER);
    let counter = |name: &'static str, description: &'static str| {
        meter
            .u64_counter(name)
            .with_description(description)
            .build()
    };
    Instruments {
        duration: meter
            .f64_histogram("http.server.duration")
            .with_unit("ms")
            .with_description("How long requests took to answer, by route and status")
            .with_boundaries(vec![
                1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
                10000.0,
            ])
            .build(),
        active: meter
            .i64_up_down_counter("http.server.active_requests")
            .with_description("Requests being answered, by route")
            .build(),
        introspection: counter(
            "mas.oauth2.introspection_request",
            "Token introspection requests, by token type and whether the token was active",
        ),
        registration: counter(
            "mas.oauth2.registration_request",
            "Dynamic client registration requests, by result",
        ),
        token: counter(
            "mas.oauth2.token_request",
            "Token endpoint requests, by grant type and result",
        ),
        compat_login: counter(
            "mas.compat.login_request",
            "Matrix login requests, by login type and result",
        ),
        compat_logout: counter("mas.compat.logout_request", "Matrix logout requests"),
        compat_logout_all: counter(
            "mas.compat.logout_all_request",
            "Matrix logout/all requests",
        ),
        password_login: counter(
            "mas.user.password_login_attempt",
            "Password sign-ins on the web pages, by result",
        ),
        password_registration: counter(
            "mas.user.password_registration",
            "Accounts registered with a password",
        ),
        upstream_callback: counter(
            "mas.upstream_oauth2.callback",
            "Returns from an upstream provider, by provider and result",
        ),
        upstream_login: counter(
            "mas.upstream_oauth2.login",
            "Sign-ins through an upstream provider, by provider",
        ),
        upstream_registration: counter(
            "mas.upstream_oauth2.registration",
            "Accounts registered through an upstream provider, by provider",
        ),
    }
});

/// The span name of a request.
pub const REQUEST_SPAN: &str = "http.server.request";

/// A request's span name, `METHOD /route` (the method alone outside any route), written only
/// when the span is enabled.
struct SpanName<'a>(&'a str, Option<&'a str>);

impl std::fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(route) => write!(f, "{} {route}", self.0),
            None => f.write_str(self.0),
        }
    }
}

/// Wraps every request: its span, its duration and the count of requests in flight.
pub async fn instrument(request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    // At `debug`: introspection is the hot path, and a span costs an allocation. It is there
    // when traces are exported (their filter takes this module's spans at `debug`) or when
    // `RUST_LOG` asks for it.
    let span = tracing::debug_span!(
        REQUEST_SPAN,
        otel.name = %SpanName(&method, route.as_deref()),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method,
        http.route = route.as_deref(),
        url.path = request.uri().path(),
        http.response.status_code = Empty,
        user.id = Empty,
        client.id = Empty,
        db.duration_ms = Empty,
    );
    if !span.is_disabled() {
        let parent = global::get_text_map_propagator(|propagator| {
            propagator.extract(&opentelemetry_http::HeaderExtractor(request.headers()))
        });
        let _ = span.set_parent(parent);
    }

    let mut attributes = vec![KeyValue::new("http.request.method", method)];
    if let Some(route) = route {
        attributes.push(KeyValue::new("http.route", route));
    }
    let instruments = &*INSTRUMENTS;
    instruments.active.add(1, &attributes);
    let started = Instant::now();

    let (response, database) =
        portcullis_storage_sql::timing::measured(next.run(request).instrument(span.clone())).await;

    instruments.active.add(-1, &attributes);
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    span.record(
        "db.duration_ms",
        u64::try_from(database.as_millis()).unwrap_or(u64::MAX),
    );
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    attributes.push(KeyValue::new(
        "http.response.status_code",
        i64::from(status.as_u16()),
    ));
    instruments
        .duration
        .record(started.elapsed().as_secs_f64() * 1000.0, &attributes);
    response
}

/// Names the signed-in user on the current request's span.
pub fn record_user(id: impl std::fmt::Display) {
    tracing::Span::current().record("user.id", tracing::field::display(id));
}

/// Names the OAuth client on the current request's span.
pub fn record_client(id: impl std::fmt::Display) {
    tracing::Span::current().record("client.id", tracing::field::display(id));
}

fn result(success: bool) -> KeyValue {
    KeyValue::new("result", if success { "success" } else { "failure" })
}

/// One introspection answered: `token_type` as the response names it (none when inactive).
pub fn introspection(active: bool, token_type: Option<&str>) {
    let mut attributes = vec![KeyValue::new("active", active)];
    if let Some(kind) = token_type {
        attributes.push(KeyValue::new("token_type", kind.to_owned()));
    }
    INSTRUMENTS.introspection.add(1, &attributes);
}

/// One dynamic client registration answered.
pub fn registration(success: bool) {
    INSTRUMENTS.registration.add(1, &[result(success)]);
}

/// The grant types we serve; anything else a client sends is counted as `other`, so that
/// clients cannot create labels at will.
const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code",
];

/// One token request answered.
pub fn token(grant_type: Option<&str>, success: bool) {
    let grant_type = grant_type
        .and_then(|sent| GRANT_TYPES.iter().find(|known| **known == sent))
        .copied()
        .unwrap_or("other");
    INSTRUMENTS.token.add(
        1,
        &[KeyValue::new("grant_type", grant_type), result(success)],
    );
}

/// The login type to count a Matrix login under: one of those we serve, else `other`.
#[must_use]
pub fn compat_login_type(sent: &str) -> &'static str {
    [
        "m.login.password",
        "m.login.token",
        "m.login.application_service",
    ]
    .into_iter()
    .find(|known| *known == sent)
    .unwrap_or("other")
}

/// One Matrix login answered, of a type from [`compat_login_type`].
pub fn compat_login(kind: &'static str, success: bool) {
    INSTRUMENTS
        .compat_login
        .add(1, &[KeyValue::new("type", kind), result(success)]);
}

/// One Matrix logout.
pub fn compat_logout() {
    INSTRUMENTS.compat_logout.add(1, &[]);
}

/// One Matrix logout of every device.
pub fn compat_logout_all() {
    INSTRUMENTS.compat_logout_all.add(1, &[]);
}

/// One password sign-in on the web pages.
pub fn password_login(success: bool) {
    INSTRUMENTS.password_login.add(1, &[result(success)]);
}

/// One account registered with a password.
pub fn password_registration() {
    INSTRUMENTS.password_registration.add(1, &[]);
}

/// One return from an upstream provider.
pub fn upstream_callback(provider: impl std::fmt::Display, success: bool) {
    INSTRUMENTS.upstream_callback.add(
        1,
        &[
            KeyValue::new("provider", provider.to_string()),
            result(success),
        ],
    );
}

/// One sign-in through an upstream provider.
pub fn upstream_login(provider: impl std::fmt::Display) {
    INSTRUMENTS
        .upstream_login
        .add(1, &[KeyValue::new("provider", provider.to_string())]);
}

/// One account registered through an upstream provider.
pub fn upstream_registration(provider: impl std::fmt::Display) {
    INSTRUMENTS
        .upstream_registration
        .add(1, &[KeyValue::new("provider", provider.to_string())]);
}
