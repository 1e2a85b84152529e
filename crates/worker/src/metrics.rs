//! The jobs' instruments: how many ran, how each ended, how long they took.

use std::{sync::LazyLock, time::Duration};

use opentelemetry::{
    KeyValue, global,
    metrics::{Counter, Histogram},
};

struct Instruments {
    processed: Counter<u64>,
    duration: Histogram<f64>,
}

static INSTRUMENTS: LazyLock<Instruments> = LazyLock::new(|| {
    let meter = global::meter("portcullis");
    Instruments {
        processed: meter
            .u64_counter("job.processed")
            .with_description("Job attempts run, by job kind and result")
            .build(),
        duration: meter
            .f64_histogram("job.process.duration")
            .with_unit("ms")
            .with_description("How long job attempts took, by job kind and result")
            .build(),
    }
});

/// One attempt of a job of `kind` ended with `result` (`success` or `failure`).
pub(crate) fn job_done(kind: &str, result: &'static str, took: Duration) {
    let attributes = [
        KeyValue::new("job.kind", kind.to_owned()),
        KeyValue::new("job.result", result),
    ];
    INSTRUMENTS.processed.add(1, &attributes);
    INSTRUMENTS
        .duration
        .record(took.as_secs_f64() * 1000.0, &attributes);
}
