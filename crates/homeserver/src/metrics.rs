//! The homeserver calls' instruments, and the trace context they carry.

use std::{sync::LazyLock, time::Duration};

use opentelemetry::{
    KeyValue, global,
    metrics::{Counter, Histogram},
};
use reqwest::StatusCode;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

struct Instruments {
    duration: Histogram<f64>,
    failures: Counter<u64>,
}

static INSTRUMENTS: LazyLock<Instruments> = LazyLock::new(|| {
    let meter = global::meter("portcullis");
    Instruments {
        duration: meter
            .f64_histogram("portcullis.homeserver.request.duration")
            .with_unit("ms")
            .with_description("How long the homeserver took to answer, by operation")
            .build(),
        failures: meter
            .u64_counter("portcullis.homeserver.request.failures")
            .with_description("Homeserver calls that got no answer or a server error, by operation")
            .build(),
    }
});

/// One call of `operation`: its status, or `None` when no answer came.
pub(crate) fn answered(operation: &'static str, status: Option<StatusCode>, took: Duration) {
    let mut attributes = vec![KeyValue::new("operation", operation)];
    if let Some(status) = status {
        attributes.push(KeyValue::new(
            "http.response.status_code",
            i64::from(status.as_u16()),
        ));
    }
    INSTRUMENTS
        .duration
        .record(took.as_secs_f64() * 1000.0, &attributes);
    if status.is_none_or(|status| status.is_server_error()) {
        INSTRUMENTS
            .failures
            .add(1, &[KeyValue::new("operation", operation)]);
    }
}

/// The headers that carry the current span's trace context to the homeserver, in the
/// configured propagation formats (none unless traces are set up).
pub(crate) fn trace_context() -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    let context = tracing::Span::current().context();
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(
            &context,
            &mut opentelemetry_http::HeaderInjector(&mut headers),
        );
    });
    headers
}
