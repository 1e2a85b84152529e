//! Logs, traces, metrics and error reports, set up from MAS's `telemetry` section.
//!
//! Logs always go to standard error, filtered by `RUST_LOG` (`info` when unset). On top of
//! them, [`Telemetry::start`] adds what the configuration asks for:
//!
//! - **traces** (`telemetry.tracing`): every `tracing` span that passes the log filter becomes an
//!   OpenTelemetry span, exported over OTLP (HTTP, protobuf) or written to standard output; the
//!   configured propagators read the caller's trace context from incoming requests;
//! - **metrics** (`telemetry.metrics`): the instruments the other crates record through the
//!   global meter, exported over OTLP, to standard output, or kept for Prometheus to scrape
//!   from the `prometheus` resource ([`Telemetry::prometheus_router`]);
//! - **Sentry** (`telemetry.sentry.dsn`): error events and panics reported to Sentry.
//!
//! Nothing is set up for what is not configured: the instruments of an unconfigured meter do
//! nothing, at no cost.

mod otlp;

use std::io::IsTerminal as _;

use anyhow::Context as _;
use axum::{
    Router,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use opentelemetry::{
    KeyValue, global,
    propagation::{TextMapCompositePropagator, TextMapPropagator},
    trace::TracerProvider as _,
};
use opentelemetry_prometheus_text_exporter::PrometheusExporter;
use opentelemetry_sdk::{
    Resource,
    metrics::{PeriodicReader, SdkMeterProvider},
    propagation::{BaggagePropagator, TraceContextPropagator},
    trace::{Sampler, SdkTracerProvider},
};
use portcullis_config::sections::telemetry::{
    MetricsConfig, MetricsExporterKind, Propagator, SentryConfig, TelemetryConfig, TracingConfig,
    TracingExporterKind,
};
use tracing::Level;
use tracing_subscriber::{
    EnvFilter, Layer, Registry, filter::Targets, layer::SubscriberExt as _,
    util::SubscriberInitExt as _,
};

/// The name this service reports itself under, as MAS does: dashboards built for MAS keep
/// working.
pub const SERVICE_NAME: &str = "matrix-authentication-service";

/// The name of the meter every crate records its instruments with.
pub const METER_NAME: &str = "portcullis";

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// What [`Telemetry::start`] set up; [`Telemetry::shutdown`] flushes it.
pub struct Telemetry {
    tracer_provider: Option<SdkTracerProvider>,
    meter_provider: Option<SdkMeterProvider>,
    prometheus: Option<PrometheusExporter>,
    sentry: Option<sentry::ClientInitGuard>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("traces", &self.tracer_provider.is_some())
            .field("metrics", &self.meter_provider.is_some())
            .field("prometheus", &self.prometheus.is_some())
            .field("sentry", &self.sentry.is_some())
            .finish()
    }
}

/// The log filter: `RUST_LOG`, else `info`.
fn log_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// What becomes a trace: the spans and events of our own crates, from `info` up, and every
/// request's span. (Libraries make spans of their own, the OpenAPI generator hundreds at
/// start-up, that would crowd the requests out of the export queue.)
fn our_spans() -> Targets {
    Targets::new()
        .with_target("portcullis", Level::INFO)
        .with_target("mas_cli", Level::INFO)
        // The request spans are at `debug`, to cost nothing when nobody wants them.
        .with_target("portcullis_http::telemetry", Level::DEBUG)
}

/// Logs to standard error.
fn log_layer() -> BoxedLayer {
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colours only on a terminal: logs collected by systemd or a file stay plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(log_filter())
        .boxed()
}

/// Logs only, for the commands that neither serve nor run jobs.
pub fn init_logs() {
    let layers: Vec<BoxedLayer> = vec![log_layer()];
    tracing_subscriber::registry().with(layers).init();
}

impl Telemetry {
    /// Logs, plus the traces, metrics and error reporting `config` asks for. Exporters send
    /// from tasks on `runtime`.
    ///
    /// # Errors
    /// An exporter that cannot be built (an endpoint that is no URL, a DSN Sentry refuses).
    pub fn start(
        config: &TelemetryConfig,
        runtime: &tokio::runtime::Handle,
    ) -> anyhow::Result<Self> {
        let resource = resource();
        let mut layers: Vec<BoxedLayer> = vec![log_layer()];

        global::set_text_map_propagator(propagator(&config.tracing.propagators));

        let tracer_provider = tracer_provider(&config.tracing, &resource, runtime)
            .context("cannot set up telemetry.tracing")?;
        if let Some(provider) = &tracer_provider {
            let tracer = provider.tracer(METER_NAME);
            layers.push(
                tracing_opentelemetry::layer()
                    .with_tracer(tracer)
                    .with_filter(our_spans())
                    .boxed(),
            );
            global::set_tracer_provider(provider.clone());
        }

        let (meter_provider, prometheus) = meter_provider(&config.metrics, &resource, runtime)
            .context("cannot set up telemetry.metrics")?;
        if let Some(provider) = &meter_provider {
            global::set_meter_provider(provider.clone());
        }

        let sentry = sentry(&config.sentry)?;
        if sentry.is_some() {
            layers.push(
                sentry::integrations::tracing::layer()
                    .with_filter(log_filter())
                    .boxed(),
            );
        }

        tracing_subscriber::registry().with(layers).init();

        Ok(Self {
            tracer_provider,
            meter_provider,
            prometheus,
            sentry,
        })
    }

    /// The `prometheus` resource: `GET /metrics` in the Prometheus text format, when metrics
    /// are exported to Prometheus; otherwise an error saying so.
    pub fn prometheus_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let exporter = self.prometheus.clone();
        if exporter.is_none() {
            tracing::warn!(
                "a listener serves the `prometheus` resource, but telemetry.metrics.exporter is not `prometheus`: /metrics will answer 500"
            );
        }
        Router::new().route(
            "/metrics",
            get(move || {
                let exporter = exporter.clone();
                async move { scrape(exporter.as_ref()) }
            }),
        )
    }

    /// Sends what is still buffered (the last spans and metrics) and stops the exporters.
    pub fn shutdown(self) {
        if let Some(provider) = self.tracer_provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("warning: the last traces could not be sent: {error}");
        }
        if let Some(provider) = self.meter_provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("warning: the last metrics could not be sent: {error}");
        }
        if let Some(sentry) = self.sentry {
            sentry.flush(Some(std::time::Duration::from_secs(5)));
        }
    }
}

fn scrape(exporter: Option<&PrometheusExporter>) -> Response {
    let Some(exporter) = exporter else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "metrics are not exported to Prometheus: set telemetry.metrics.exporter to `prometheus`\n",
        )
            .into_response();
    };
    let mut text = Vec::new();
    match exporter.export(&mut text) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot export the metrics");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot export the metrics\n",
            )
                .into_response()
        }
    }
}

/// What every span and metric says about where it comes from.
fn resource() -> Resource {
    Resource::builder()
        .with_service_name(SERVICE_NAME)
        .with_attributes([
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            KeyValue::new("process.pid", i64::from(std::process::id())),
        ])
        .build()
}

// The Jaeger format is deprecated upstream in favour of W3C Trace Context, but MAS's
// configuration offers it and deployments still running Jaeger agents depend on it.
#[allow(deprecated)]
fn propagator(propagators: &[Propagator]) -> TextMapCompositePropagator {
    let propagators = propagators
        .iter()
        .map(|propagator| -> Box<dyn TextMapPropagator + Send + Sync> {
            match propagator {
                Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
                Propagator::Baggage => Box::new(BaggagePropagator::new()),
                Propagator::Jaeger => Box::new(opentelemetry_jaeger_propagator::Propagator::new()),
            }
        })
        .collect();
    TextMapCompositePropagator::new(propagators)
}

fn tracer_provider(
    config: &TracingConfig,
    resource: &Resource,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<Option<SdkTracerProvider>> {
    let builder = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            config.sample_rate.unwrap_or(1.0),
        ))));
    let provider = match config.exporter {
        TracingExporterKind::None => return Ok(None),
        TracingExporterKind::Stdout => builder
            .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
            .build(),
        TracingExporterKind::Otlp => {
            let endpoint = otlp::endpoint(config.endpoint.as_ref(), "/v1/traces");
            builder
                .with_batch_exporter(otlp::span_exporter(&endpoint, runtime)?)
                .build()
        }
    };
    Ok(Some(provider))
}

fn meter_provider(
    config: &MetricsConfig,
    resource: &Resource,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<(Option<SdkMeterProvider>, Option<PrometheusExporter>)> {
    let builder = SdkMeterProvider::builder().with_resource(resource.clone());
    Ok(match config.exporter {
        MetricsExporterKind::None => (None, None),
        MetricsExporterKind::Stdout => {
            let reader =
                PeriodicReader::builder(opentelemetry_stdout::MetricExporter::default()).build();
            (Some(builder.with_reader(reader).build()), None)
        }
        MetricsExporterKind::Otlp => {
            let endpoint = otlp::endpoint(config.endpoint.as_ref(), "/v1/metrics");
            let reader =
                PeriodicReader::builder(otlp::metric_exporter(&endpoint, runtime)?).build();
            (Some(builder.with_reader(reader).build()), None)
        }
        MetricsExporterKind::Prometheus => {
            let exporter = PrometheusExporter::builder().without_scope_info().build();
            (
                Some(builder.with_reader(exporter.clone()).build()),
                Some(exporter),
            )
        }
    })
}

fn sentry(config: &SentryConfig) -> anyhow::Result<Option<sentry::ClientInitGuard>> {
    let Some(dsn) = &config.dsn else {
        return Ok(None);
    };
    let dsn: sentry::types::Dsn = dsn
        .parse()
        .map_err(|error| anyhow::anyhow!("telemetry.sentry.dsn: {error}"))?;
    let options = sentry::ClientOptions {
        dsn: Some(dsn),
        release: Some(env!("CARGO_PKG_VERSION").into()),
        environment: Some(
            config
                .environment
                .clone()
                .unwrap_or_else(|| "production".to_owned())
                .into(),
        ),
        sample_rate: config.sample_rate.map_or(1.0, |rate| rate as f32),
        traces_sample_rate: config.traces_sample_rate.map_or(0.0, |rate| rate as f32),
        ..Default::default()
    };
    Ok(Some(sentry::init(options)))
}

/// Reports the database pool's connections (`db.client.connections.usage` by state, and
/// `db.client.connections.max`) each time metrics are collected.
pub fn observe_database(database: &portcullis_storage_sql::Database) {
    let meter = global::meter(METER_NAME);
    let pool = KeyValue::new("pool.name", database.backend_name());
    let usage = (database.clone(), pool.clone());
    meter
        .i64_observable_up_down_counter("db.client.connections.usage")
        .with_description("The database pool's connections, by state (idle or used)")
        .with_callback(move |observer| {
            let (database, pool) = &usage;
            let connections = database.connections();
            let idle = i64::from(connections.idle);
            let used = i64::from(connections.open).saturating_sub(idle);
            observer.observe(used, &[pool.clone(), KeyValue::new("state", "used")]);
            observer.observe(idle, &[pool.clone(), KeyValue::new("state", "idle")]);
        })
        .build();
    let database = database.clone();
    meter
        .i64_observable_up_down_counter("db.client.connections.max")
        .with_description("The most connections the database pool may open")
        .with_callback(move |observer| {
            observer.observe(
                i64::from(database.connections().max),
                std::slice::from_ref(&pool),
            );
        })
        .build();
}
