use axum::{Router, body::Body, routing::get};
use http::{Request, StatusCode};
use portcullis_listener::{BindSpec, ConnectionInfo, ListenerSpec};
use tokio::net::TcpStream;
use tower::ServiceExt;

use crate::support::{TestServer, field, info_router, raw_get, tcp_spec};

#[tokio::test]
async fn plain_http_is_served_on_an_ephemeral_port() {
    let server = TestServer::start(tcp_spec("web"), info_router()).await;

    let response = reqwest::get(format!("http://{}/", server.tcp_addr()))
        .await
        .expect("the server answers");

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.expect("a body"), "ok");
    server.stop().await;
}

#[tokio::test]
async fn connection_info_names_the_listener_and_both_ends_of_a_tcp_connection() {
    let server = TestServer::start(tcp_spec("internal"), info_router()).await;
    let stream = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");
    let client = stream.local_addr().expect("a local address");

    let response = raw_get(stream, b"", "/info").await.expect("a response");

    assert_eq!(field(&response.body, "listener"), "internal");
    assert_eq!(
        field(&response.body, "local"),
        server.tcp_addr().to_string()
    );
    assert_eq!(
        field(&response.body, "transport_peer"),
        format!("Some({client})")
    );
    assert_eq!(field(&response.body, "peer"), format!("Some({client})"));
    assert_eq!(field(&response.body, "proxied"), "None");
    assert_eq!(field(&response.body, "tls"), "None");
    server.stop().await;
}

#[tokio::test]
async fn a_host_bind_serves_on_every_address_it_resolves_to() {
    let spec = ListenerSpec {
        binds: vec![BindSpec::Host {
            host: Some("localhost".to_owned()),
            port: 0,
        }],
        ..tcp_spec("web")
    };
    let server = TestServer::start(spec, info_router()).await;

    assert!(!server.addresses.is_empty());
    for address in &server.addresses {
        let address = address.tcp().expect("a TCP address");
        assert!(address.ip().is_loopback(), "{address}");
        let stream = TcpStream::connect(address).await.expect("connects");
        let response = raw_get(stream, b"", "/").await.expect("a response");
        assert_eq!(response.body, "ok");
    }
    server.stop().await;
}

#[tokio::test]
async fn one_listener_serves_all_its_binds_with_the_same_router() {
    let spec = ListenerSpec {
        binds: vec![
            BindSpec::Tcp(crate::support::loopback_any_port()),
            BindSpec::Tcp(crate::support::loopback_any_port()),
        ],
        ..tcp_spec("web")
    };
    let server = TestServer::start(spec, info_router()).await;

    assert_eq!(server.addresses.len(), 2);
    for address in &server.addresses {
        let stream = TcpStream::connect(address.tcp().expect("a TCP address"))
            .await
            .expect("connects");
        let response = raw_get(stream, b"", "/").await.expect("a response");
        assert_eq!(response.body, "ok");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_extractor_rejects_with_500_a_request_that_did_not_come_through_a_listener() {
    let router = Router::new().route("/", get(|_: ConnectionInfo| async { "unreachable" }));

    let response = router
        .oneshot(Request::new(Body::empty()))
        .await
        .expect("routers are infallible");

    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn the_optional_extractor_gives_none_outside_a_listener() {
    let router = Router::new().route(
        "/",
        get(|info: Option<ConnectionInfo>| async move { format!("{}", info.is_none()) }),
    );

    let response = router
        .oneshot(Request::new(Body::empty()))
        .await
        .expect("routers are infallible");

    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .expect("a body");
    assert_eq!(&body[..], b"true");
}
