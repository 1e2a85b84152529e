//! `telemetry`: the Prometheus endpoint after a known sequence of requests, traces sent to an
//! OTLP collector, and errors reported to Sentry, each received by a collector the test runs.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader},
    net::TcpListener,
};

use crate::common::{Server, free_port, mas_cli, run, write_config};

const CLIENT_ID: &str = "01J5Z6K3QY8V0W9X2ABCDEFGH0";
const CLIENT_SECRET: &str = "a-client-secret";
const STRONG: &str = "correct horse battery staple 1987";

fn client_config() -> String {
    format!(
        "clients:\n  - client_id: {CLIENT_ID}\n    client_auth_method: client_secret_post\n    client_secret: {CLIENT_SECRET}\n"
    )
}

async fn token_request(client: &reqwest::Client, server: &Server, secret: &str) -> u16 {
    client
        .post(format!("{}/oauth2/token", server.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", secret),
        ])
        .send()
        .await
        .expect("the token endpoint answers")
        .status()
        .as_u16()
}

/// One sample of a scrape: the metric's name, its labels, its value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a Prometheus text exposition (labels without commas or quotes inside).
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    Some((key.to_owned(), value.trim_matches('"').to_owned()))
                })
                .collect();
            Some(Sample {
                name: name.to_owned(),
                labels,
                value: value.parse().ok()?,
            })
        })
        .collect()
}

/// The sum of the samples named `name` whose labels include `labels`.
fn total(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|sample| sample.name == name)
        .filter(|sample| {
            labels
                .iter()
                .all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(*value))
        })
        .map(|sample| sample.value)
        .sum()
}

#[tokio::test]
async fn the_metrics_endpoint_counts_a_known_sequence_of_requests() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let extra = format!(
        "{}telemetry:\n  metrics:\n    exporter: prometheus\n",
        client_config()
    );
    write_config(
        dir.path(),
        port,
        &["oauth", "compat", "health", "prometheus"],
        &extra,
    );
    let server = Server::start(dir.path(), port, &["server"]).await;
    let client = reqwest::Client::new();

    assert_eq!(token_request(&client, &server, CLIENT_SECRET).await, 200);
    assert_eq!(token_request(&client, &server, CLIENT_SECRET).await, 200);
    assert_eq!(token_request(&client, &server, "a wrong secret").await, 401);
    let introspection = client
        .post(format!("{}/oauth2/introspect", server.base))
        .bearer_auth("test-secret")
        .form(&[("token", "mat_not_a_token")])
        .send()
        .await
        .expect("introspection answers");
    assert_eq!(introspection.status(), 200);
    let login = client
        .post(format!("{}/_matrix/client/v3/login", server.base))
        .json(&serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": "nobody"},
            "password": "not the password",
        }))
        .send()
        .await
        .expect("the login API answers");
    assert_eq!(login.status(), 403);

    let response = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("the metrics answer");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/plain")),
        "the Prometheus text format"
    );
    let text = response.text().await.expect("a body");
    let samples = samples(&text);

    let token = "mas_oauth2_token_request_total";
    let credentials = ("grant_type", "client_credentials");
    assert_eq!(
        total(&samples, token, &[credentials, ("result", "success")]),
        2.0,
        "{text}"
    );
    assert_eq!(
        total(&samples, token, &[credentials, ("result", "failure")]),
        1.0,
        "{text}"
    );
    assert_eq!(
        total(
            &samples,
            "mas_oauth2_introspection_request_total",
            &[("active", "false")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        total(
            &samples,
            "mas_compat_login_request_total",
            &[("type", "m.login.password"), ("result", "failure")]
        ),
        1.0,
        "{text}"
    );
    let requests = "http_server_duration_milliseconds_count";
    let route = ("http_route", "/oauth2/token");
    assert_eq!(total(&samples, requests, &[route]), 3.0, "{text}");
    assert_eq!(
        total(
            &samples,
            requests,
            &[route, ("http_response_status_code", "401")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        total(
            &samples,
            requests,
            &[("http_route", "/_matrix/client/v3/login")]
        ),
        1.0,
        "{text}"
    );
    // Only the scrape itself is in flight.
    assert_eq!(
        total(&samples, "http_server_active_requests", &[]),
        1.0,
        "{text}"
    );
    assert_eq!(
        total(
            &samples,
            "db_client_connections_max",
            &[("pool_name", "SQLite")]
        ),
        10.0,
        "{text}"
    );
    assert!(
        samples.iter().any(|sample| sample.name == "target_info"
            && sample.labels.get("service_name").map(String::as_str)
                == Some("matrix-authentication-service")),
        "reported under MAS's service name: {text}"
    );
}

#[tokio::test]
async fn without_the_prometheus_exporter_the_metrics_say_what_to_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    write_config(dir.path(), port, &["health", "prometheus"], "");
    let server = Server::start(dir.path(), port, &["server"]).await;
    let response = reqwest::get(format!("{}/metrics", server.base))
        .await
        .expect("answers");
    assert_eq!(response.status(), 500);
    let text = response.text().await.expect("a body");
    assert!(text.contains("telemetry.metrics.exporter"), "{text}");
    let (_, output) = server.stop();
    assert!(
        output.contains("telemetry.metrics.exporter is not `prometheus`"),
        "warned at start-up: {output}"
    );
}

/// What a collector received: the path and body of each request.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A minimal HTTP/1.1 collector on a free port, answering 200 with an empty body (an empty
/// OTLP export response) to everything, and keeping what it was sent.
async fn collector() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    let received = Received::default();
    let keep = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let keep = keep.clone();
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                loop {
                    let mut request_line = String::new();
                    if stream.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let path = request_line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        if stream.read_line(&mut header).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if stream.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    keep.lock().expect("not poisoned").push((path, body));
                    let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                    if stream.get_mut().write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, received)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

// Multi-threaded: the collector keeps answering while the test waits for the server to stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_reach_an_otlp_collector_with_the_callers_trace_id() {
    let (collector_port, received) = collector().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let extra = format!(
        "telemetry:\n  tracing:\n    exporter: otlp\n    endpoint: http://127.0.0.1:{collector_port}\n    propagators: [tracecontext]\n"
    );
    write_config(dir.path(), port, &["health", "discovery"], &extra);
    let server = Server::start(dir.path(), port, &["server"]).await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = reqwest::Client::new()
        .get(format!("{}/.well-known/openid-configuration", server.base))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .expect("discovery answers");
    assert_eq!(response.status(), 200);
    // Stopping sends the spans still buffered.
    let (status, output) = server.stop();
    assert!(status.success(), "{output}");

    let received = received.lock().expect("not poisoned").clone();
    let traces: Vec<_> = received
        .iter()
        .filter(|(path, _)| path == "/v1/traces")
        .map(|(_, body)| body)
        .collect();
    assert!(
        !traces.is_empty(),
        "no export reached the collector: {output}"
    );
    let trace_id = hex_bytes(trace_id);
    let span = traces.iter().find(|body| {
        contains(body, b"GET /.well-known/openid-configuration") && contains(body, &trace_id)
    });
    assert!(
        span.is_some(),
        "the request's span, in the caller's trace, was exported: {:?}",
        traces
            .iter()
            .map(|body| String::from_utf8_lossy(body))
            .collect::<Vec<_>>()
    );
    assert!(
        traces
            .iter()
            .any(|body| contains(body, b"matrix-authentication-service")),
        "under MAS's service name"
    );
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_reported_to_sentry_when_a_dsn_is_set() {
    let (collector_port, received) = collector().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    // The homeserver of `write_config` does not answer: a sign-in cannot create its device,
    // which is an error worth reporting.
    let extra = format!(
        "telemetry:\n  sentry:\n    dsn: http://public@127.0.0.1:{collector_port}/1\n    environment: ci\n"
    );
    write_config(dir.path(), port, &["compat", "health"], &extra);
    let migrated = run(mas_cli(dir.path()).args(["database", "migrate"]));
    assert!(migrated.status.success(), "{migrated:?}");
    let created = run(mas_cli(dir.path()).args([
        "manage",
        "register-user",
        "--yes",
        "alice",
        "--password",
        STRONG,
    ]));
    assert!(created.status.success(), "{created:?}");
    let server = Server::start(dir.path(), port, &["server"]).await;

    let login = reqwest::Client::new()
        .post(format!("{}/_matrix/client/v3/login", server.base))
        .json(&serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": "alice"},
            "password": STRONG,
        }))
        .send()
        .await
        .expect("the login API answers");
    assert_eq!(login.status(), 503);
    let (status, output) = server.stop();
    assert!(status.success(), "{output}");

    let received = received.lock().expect("not poisoned").clone();
    let envelope = received
        .iter()
        .find(|(path, _)| path == "/api/1/envelope/")
        .map(|(_, body)| String::from_utf8_lossy(body).into_owned());
    let envelope = envelope.unwrap_or_else(|| panic!("nothing reached Sentry: {received:?}"));
    assert!(
        envelope.contains("cannot create the device on the homeserver"),
        "{envelope}"
    );
    assert!(envelope.contains("\"environment\":\"ci\""), "{envelope}");
}
