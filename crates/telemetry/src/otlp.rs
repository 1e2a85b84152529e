//! OTLP over HTTP (protobuf), sent with our reqwest client (rustls, no second HTTP stack).
//!
//! The SDK exports from threads of its own, outside the async runtime; the client hands each
//! request to a task on the runtime and waits for its answer.

use std::time::Duration;

use anyhow::Context as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
use url::Url;

/// How long one export may take before it is given up.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The URL an exporter posts to: `endpoint` as configured when it has a path, else with the
/// signal's standard path (`/v1/traces`, `/v1/metrics`) added, so that both MAS's documented
/// form (`https://localhost:4318`) and a full URL work. `http://localhost:4318` by default.
pub(crate) fn endpoint(endpoint: Option<&Url>, signal_path: &str) -> String {
    match endpoint {
        Some(url) if url.path() != "/" => url.to_string(),
        Some(url) => format!("{}{signal_path}", url.as_str().trim_end_matches('/')),
        None => format!("http://localhost:4318{signal_path}"),
    }
}

pub(crate) fn span_exporter(
    endpoint: &str,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<opentelemetry_otlp::SpanExporter> {
    opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(Client::new(runtime)?)
        .with_endpoint(endpoint)
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .with_context(|| format!("cannot export traces to {endpoint}"))
}

pub(crate) fn metric_exporter(
    endpoint: &str,
    runtime: &tokio::runtime::Handle,
) -> anyhow::Result<opentelemetry_otlp::MetricExporter> {
    opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_http_client(Client::new(runtime)?)
        .with_endpoint(endpoint)
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .with_context(|| format!("cannot export metrics to {endpoint}"))
}

/// reqwest, driven by the async runtime whatever thread asks.
#[derive(Debug, Clone)]
struct Client {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

impl Client {
    fn new(runtime: &tokio::runtime::Handle) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(EXPORT_TIMEOUT)
            .build()
            .context("cannot build the HTTP client of the exporter")?;
        Ok(Self {
            http,
            runtime: runtime.clone(),
        })
    }
}

#[async_trait::async_trait]
impl HttpClient for Client {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let http = self.http.clone();
        self.runtime
            .spawn(async move {
                let response = http.execute(request).await?;
                let mut answer = Response::builder().status(response.status());
                if let Some(headers) = answer.headers_mut() {
                    *headers = response.headers().clone();
                }
                let body = response.bytes().await?;
                Ok::<_, HttpError>(answer.body(body)?)
            })
            .await?
    }
}

#[cfg(test)]
mod tests {
    use super::endpoint;

    fn url(text: &str) -> url::Url {
        text.parse().expect("a URL")
    }

    #[test]
    fn a_bare_collector_address_gets_the_signal_path() {
        assert_eq!(
            endpoint(Some(&url("https://collector:4318")), "/v1/traces"),
            "https://collector:4318/v1/traces"
        );
        assert_eq!(
            endpoint(Some(&url("https://collector:4318/")), "/v1/metrics"),
            "https://collector:4318/v1/metrics"
        );
    }

    #[test]
    fn a_full_url_is_used_as_written() {
        assert_eq!(
            endpoint(Some(&url("https://collector/otlp/v1/traces")), "/v1/traces"),
            "https://collector/otlp/v1/traces"
        );
    }

    #[test]
    fn without_an_endpoint_the_local_collector() {
        assert_eq!(
            endpoint(None, "/v1/traces"),
            "http://localhost:4318/v1/traces"
        );
    }
}
