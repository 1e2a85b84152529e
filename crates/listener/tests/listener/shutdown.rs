use std::time::Duration;

use axum::{Router, routing::get};
use portcullis_listener::ServeOptions;
use tokio::{net::TcpStream, sync::mpsc};
use tokio_util::sync::CancellationToken;

use crate::support::{TestServer, raw_get, tcp_spec};

/// How long any step of a shutdown may take here before the test calls it stuck. A regression
/// in the shutdown (a connection never drained, a task never woken) must fail the test, not
/// hang the suite.
const STUCK: Duration = Duration::from_secs(10);

/// Awaits `step`, failing the test if it takes longer than [`STUCK`].
async fn within<T>(what: &str, step: impl Future<Output = T>) -> T {
    tokio::time::timeout(STUCK, step)
        .await
        .unwrap_or_else(|_| panic!("{what} did not happen within {STUCK:?}: the shutdown is stuck"))
}

/// A router whose `/slow` reports that the request arrived, then answers only once
/// `release` is cancelled.
fn slow_router(release: CancellationToken) -> (Router, mpsc::UnboundedReceiver<()>) {
    let (arrived, arrivals) = mpsc::unbounded_channel();
    let router = Router::new().route(
        "/slow",
        get(move || {
            let release = release.clone();
            let arrived = arrived.clone();
            async move {
                arrived.send(()).expect("the test waits for arrivals");
                release.cancelled().await;
                "finished"
            }
        }),
    );
    (router, arrivals)
}

#[tokio::test]
async fn a_request_in_flight_at_shutdown_completes_and_then_serve_returns() {
    let release = CancellationToken::new();
    let (router, mut arrivals) = slow_router(release.clone());
    let server = TestServer::start(tcp_spec("web"), router).await;
    let stream = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");
    let request = tokio::spawn(async move { raw_get(stream, b"", "/slow").await });
    within("the request arriving", arrivals.recv())
        .await
        .expect("the request arrives");

    server.shutdown.cancel();
    // On this single-threaded test runtime, yielding lets every task woken by the
    // cancellation run first: the connection has started draining before the handler ends.
    tokio::task::yield_now().await;
    release.cancel();
    let response = within("the client getting its answer", request)
        .await
        .expect("the client task does not panic");
    within("serve returning", server.served)
        .await
        .expect("serve does not panic");

    let response = response.expect("the in-flight request got its response");
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    assert_eq!(response.body, "finished");
}

#[tokio::test]
async fn serve_returns_after_the_grace_period_even_if_a_request_never_finishes() {
    let never = CancellationToken::new();
    let (router, mut arrivals) = slow_router(never.clone());
    let options = ServeOptions {
        shutdown_grace: Duration::from_millis(50),
        ..ServeOptions::default()
    };
    let server =
        TestServer::start_with(tcp_spec("web"), router, options, CancellationToken::new()).await;
    let stream = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");
    let request = tokio::spawn(async move { raw_get(stream, b"", "/slow").await });
    within("the request arriving", arrivals.recv())
        .await
        .expect("the request arrives");

    within("the server stopping", server.stop()).await;
    let response = within("the client getting its answer", request)
        .await
        .expect("the client task does not panic");

    assert!(response.is_none(), "the stuck request was cut off");
}

#[tokio::test]
async fn no_connection_is_accepted_once_serve_has_returned() {
    let server = TestServer::start(tcp_spec("web"), crate::support::info_router()).await;
    let address = server.tcp_addr();

    within("the server stopping", server.stop()).await;
    let connected = TcpStream::connect(address).await;

    assert!(connected.is_err(), "the listening socket is closed");
}

#[tokio::test]
async fn idle_keep_alive_connections_do_not_hold_up_shutdown() {
    let server = TestServer::start(tcp_spec("web"), crate::support::info_router()).await;
    // Opened and left idle: a graceful shutdown must not wait for the client to leave.
    let _idle = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");

    within("the server stopping", server.stop()).await;
}
