//! `telemetry`: traces, metrics and error reporting.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{problem::Problem, sections::is_default};

/// Where traces go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TracingExporterKind {
    /// Nowhere.
    #[default]
    None,
    /// Standard output, for debugging.
    Stdout,
    /// An OpenTelemetry (OTLP over HTTP) collector.
    Otlp,
}

/// Trace context propagation formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Propagator {
    /// W3C Trace Context.
    TraceContext,
    /// W3C Baggage.
    Baggage,
    /// Jaeger headers.
    Jaeger,
}

/// Traces.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct TracingConfig {
    /// Where traces go.
    #[serde(default)]
    pub exporter: TracingExporterKind,
    /// OTLP endpoint; `https://localhost:4318` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Url>,
    /// Propagation formats for incoming and outgoing requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub propagators: Vec<Propagator>,
    /// Share of traces kept, 0 to 1; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<f64>,
}

/// Where metrics go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MetricsExporterKind {
    /// Nowhere.
    #[default]
    None,
    /// Standard output, for debugging.
    Stdout,
    /// An OpenTelemetry (OTLP over HTTP) collector.
    Otlp,
    /// A Prometheus scrape endpoint, served by a listener with the `prometheus` resource.
    Prometheus,
}

/// Metrics.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct MetricsConfig {
    /// Where metrics go.
    #[serde(default)]
    pub exporter: MetricsExporterKind,
    /// OTLP endpoint; `https://localhost:4318` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Url>,
}

/// Sentry error reporting.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct SentryConfig {
    /// Sentry DSN; reporting is off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    /// Environment reported to Sentry; `production` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Share of events sent, 0 to 1; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<f64>,
    /// Share of transactions traced, 0 to 1; 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traces_sample_rate: Option<f64>,
}

/// Traces, metrics and Sentry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct TelemetryConfig {
    /// Traces.
    #[serde(default, skip_serializing_if = "is_default")]
    pub tracing: TracingConfig,
    /// Metrics.
    #[serde(default, skip_serializing_if = "is_default")]
    pub metrics: MetricsConfig,
    /// Sentry.
    #[serde(default, skip_serializing_if = "is_default")]
    pub sentry: SentryConfig,
}

impl TelemetryConfig {
    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let rates = [
            ("telemetry.tracing.sample_rate", self.tracing.sample_rate),
            ("telemetry.sentry.sample_rate", self.sentry.sample_rate),
            (
                "telemetry.sentry.traces_sample_rate",
                self.sentry.traces_sample_rate,
            ),
        ];
        for (path, rate) in rates {
            if let Some(rate) = rate
                && !(0.0..=1.0).contains(&rate)
            {
                problems.push(Problem::error(
                    path,
                    format!("{rate} is not a rate between 0 and 1"),
                ));
            }
        }
        if let Some(dsn) = &self.sentry.dsn
            && let Err(error) = Url::parse(dsn)
        {
            problems.push(Problem::error(
                "telemetry.sentry.dsn",
                format!("not a valid DSN: {error}"),
            ));
        }
        problems
    }
}
