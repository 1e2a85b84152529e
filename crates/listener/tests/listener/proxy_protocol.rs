use std::{net::SocketAddr, time::Duration};

use portcullis_listener::{ListenerSpec, ServeOptions};
use tokio::{io::AsyncWriteExt, net::TcpStream};
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;

use crate::support::{TestPki, TestServer, field, info_router, raw_get, read_response, tcp_spec};

fn proxied_spec() -> ListenerSpec {
    ListenerSpec {
        proxy_protocol: true,
        ..tcp_spec("web")
    }
}

/// A PROXY v2 header for a TCP over IPv4 connection from `source` to `destination`.
fn v2_header(command: u8, source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    let (SocketAddr::V4(source), SocketAddr::V4(destination)) = (source, destination) else {
        panic!("the helper builds IPv4 headers only");
    };
    let mut header = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    header.push(0x20 | command); // version 2
    header.push(0x11); // AF_INET, STREAM
    header.extend_from_slice(&12_u16.to_be_bytes());
    header.extend_from_slice(&source.ip().octets());
    header.extend_from_slice(&destination.ip().octets());
    header.extend_from_slice(&source.port().to_be_bytes());
    header.extend_from_slice(&destination.port().to_be_bytes());
    header
}

const V2_PROXY: u8 = 0x1;
const V2_LOCAL: u8 = 0x0;

#[tokio::test]
async fn a_proxy_v1_header_makes_the_announced_client_the_peer() {
    let server = TestServer::start(proxied_spec(), info_router()).await;
    let stream = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");
    let proxy = stream.local_addr().expect("a local address");

    let response = raw_get(
        stream,
        b"PROXY TCP4 192.0.2.10 198.51.100.1 51234 443\r\n",
        "/info",
    )
    .await
    .expect("a response");

    assert_eq!(field(&response.body, "peer"), "Some(192.0.2.10:51234)");
    assert_eq!(field(&response.body, "proxied"), "Some(192.0.2.10:51234)");
    assert_eq!(
        field(&response.body, "transport_peer"),
        format!("Some({proxy})")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_proxy_v1_header_with_ipv6_addresses_is_understood() {
    let server = TestServer::start(proxied_spec(), info_router()).await;
    let stream = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");

    let response = raw_get(
        stream,
        b"PROXY TCP6 2001:db8::7 2001:db8::1 40000 443\r\n",
        "/info",
    )
    .await
    .expect("a response");

    assert_eq!(field(&response.body, "peer"), "Some([2001:db8::7]:40000)");
    server.stop().await;
}

#[tokio::test]
async fn a_proxy_v2_header_makes_the_announced_client_the_peer() {
    let server = TestServer::start(proxied_spec(), info_router()).await;
    let stream = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");
    let header = v2_header(
        V2_PROXY,
        "203.0.113.5:40001".parse().expect("valid"),
        "198.51.100.1:443".parse().expect("valid"),
    );

    let response = raw_get(stream, &header, "/info").await.expect("a response");

    assert_eq!(field(&response.body, "peer"), "Some(203.0.113.5:40001)");
    server.stop().await;
}

#[tokio::test]
async fn a_proxy_v2_local_header_leaves_the_socket_peer_as_the_peer() {
    let server = TestServer::start(proxied_spec(), info_router()).await;
    let stream = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");
    let proxy = stream.local_addr().expect("a local address");
    let header = v2_header(
        V2_LOCAL,
        "203.0.113.5:40001".parse().expect("valid"),
        "198.51.100.1:443".parse().expect("valid"),
    );

    let response = raw_get(stream, &header, "/info").await.expect("a response");

    assert_eq!(field(&response.body, "peer"), format!("Some({proxy})"));
    assert_eq!(field(&response.body, "proxied"), "None");
    server.stop().await;
}

#[tokio::test]
async fn garbage_instead_of_a_proxy_header_closes_that_connection_only() {
    let server = TestServer::start(proxied_spec(), info_router()).await;

    let garbage = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");
    let refused = raw_get(garbage, b"", "/").await;
    let valid = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");
    let served = raw_get(valid, b"PROXY UNKNOWN\r\n", "/").await;

    assert!(refused.is_none(), "a request without header got an answer");
    assert_eq!(served.expect("a response").body, "ok");
    server.stop().await;
}

#[tokio::test]
async fn an_invalid_proxy_v1_header_closes_the_connection() {
    let server = TestServer::start(proxied_spec(), info_router()).await;
    let stream = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");

    let response = raw_get(stream, b"PROXY TCP4 not-an-ip 198.51.100.1 1 2\r\n", "/").await;

    assert!(response.is_none());
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_sends_nothing_is_disconnected_at_the_handshake_timeout() {
    let options = ServeOptions {
        handshake_timeout: Duration::from_millis(50),
        ..ServeOptions::default()
    };
    let server = TestServer::start_with(
        proxied_spec(),
        info_router(),
        options,
        CancellationToken::new(),
    )
    .await;
    let silent = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");

    // Ends only because the server closes the connection.
    let response = read_response(silent).await;

    assert!(response.is_none());
    server.stop().await;
}

#[tokio::test]
async fn a_proxy_header_is_read_before_the_tls_handshake() {
    let pki = TestPki::generate();
    let spec = ListenerSpec {
        tls: Some(pki.settings()),
        ..proxied_spec()
    };
    let server = TestServer::start(spec, info_router()).await;
    let mut stream = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");
    stream
        .write_all(b"PROXY TCP4 192.0.2.10 198.51.100.1 51234 443\r\n")
        .await
        .expect("writes");

    let connector = TlsConnector::from(pki.rustls_client(&[b"http/1.1"]));
    let server_name = "localhost".try_into().expect("a valid name");
    let tls = connector
        .connect(server_name, stream)
        .await
        .expect("TLS handshake");
    let response = raw_get(tls, b"", "/info").await.expect("a response");

    assert_eq!(field(&response.body, "peer"), "Some(192.0.2.10:51234)");
    assert_eq!(
        field(&response.body, "tls"),
        "Some(\"sni=localhost alpn=http/1.1\")"
    );
    server.stop().await;
}
