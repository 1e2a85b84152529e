//! Shared set-up: a server on ephemeral sockets, hand-written HTTP/1.1 requests, a test PKI.

use std::{net::SocketAddr, sync::Arc};

use axum::{Router, routing::get};
use pkcs8::{
    PrivateKeyInfo,
    der::{Decode, pem::LineEnding},
    pkcs5::pbes2,
};
use portcullis_listener::{
    BindSpec, ConnectionInfo, ListenerSpec, LocalAddr, ServeOptions, TlsSettings, bind, serve,
};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;

/// A listener spec on an ephemeral loopback port, plain HTTP.
pub fn tcp_spec(name: &str) -> ListenerSpec {
    ListenerSpec {
        name: name.to_owned(),
        binds: vec![BindSpec::Tcp(loopback_any_port())],
        proxy_protocol: false,
        tls: None,
    }
}

pub fn loopback_any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A running `serve`, stopped with [`TestServer::stop`].
pub struct TestServer {
    pub addresses: Vec<LocalAddr>,
    pub shutdown: CancellationToken,
    pub served: JoinHandle<()>,
}

impl TestServer {
    pub async fn start(spec: ListenerSpec, router: Router) -> Self {
        Self::start_with(
            spec,
            router,
            ServeOptions::default(),
            CancellationToken::new(),
        )
        .await
    }

    pub async fn start_with(
        spec: ListenerSpec,
        router: Router,
        options: ServeOptions,
        shutdown: CancellationToken,
    ) -> Self {
        let bound = bind([spec]).await.expect("the test listener binds");
        let listener = bound.into_iter().next().expect("one listener was bound");
        let addresses = listener.local_addrs();
        let served = tokio::spawn(serve([(listener, router)], options, shutdown.clone()));
        Self {
            addresses,
            shutdown,
            served,
        }
    }

    /// The first TCP address bound.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.addresses
            .iter()
            .find_map(LocalAddr::tcp)
            .expect("the listener has a TCP socket")
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.served.await.expect("serve does not panic");
    }
}

/// `/` answers `ok`; `/info` describes the request's [`ConnectionInfo`], one `key=value`
/// per line.
pub fn info_router() -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .route("/info", get(describe))
}

async fn describe(info: ConnectionInfo) -> String {
    let tls = info.tls.as_ref().map(|tls| {
        format!(
            "sni={} alpn={}",
            tls.server_name.as_deref().unwrap_or("-"),
            tls.alpn_protocol
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
        )
    });
    format!(
        "listener={}\nlocal={}\ntransport_peer={:?}\npeer={:?}\nproxied={:?}\ntls={:?}\n",
        info.listener,
        info.local,
        info.transport_peer,
        info.peer_addr(),
        info.proxied.map(|proxied| proxied.source),
        tls,
    )
}

/// The value of `key` in a body written by [`info_router`]'s `/info`.
pub fn field<'a>(body: &'a str, key: &str) -> &'a str {
    body.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no `{key}` in {body:?}"))
}

/// A response read to the end of the connection.
pub struct RawResponse {
    pub status_line: String,
    pub body: String,
}

/// Sends `GET path` over `stream` (after `preamble`, such as a PROXY header) and reads the
/// response until the server closes the connection. `None` when the server closed it without
/// answering.
pub async fn raw_get<S>(mut stream: S, preamble: &[u8], path: &str) -> Option<RawResponse>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut request = preamble.to_vec();
    request.extend_from_slice(
        format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    // The server may already have closed the connection (that is what some tests check).
    if stream.write_all(&request).await.is_err() {
        return None;
    }
    read_response(stream).await
}

pub async fn read_response<S: AsyncRead + Unpin>(mut stream: S) -> Option<RawResponse> {
    let mut received = Vec::new();
    // A reset or a TLS stream closed without close_notify ends the read like EOF does.
    let _ = stream.read_to_end(&mut received).await;
    if received.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&received).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    Some(RawResponse {
        status_line: head.lines().next().unwrap_or_default().to_owned(),
        body: body.to_owned(),
    })
}

/// A CA and a `localhost` certificate it issued, with the certificate's key.
pub struct TestPki {
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    pub leaf_pem: String,
    pub leaf_key: KeyPair,
}

impl TestPki {
    pub fn generate() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("valid params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(
            ca_params,
            KeyPair::generate().expect("key generation works"),
        )
        .expect("the CA self-signs");

        let leaf_key = KeyPair::generate().expect("key generation works");
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("valid params")
            .signed_by(&leaf_key, &*ca)
            .expect("the CA signs");

        Self {
            ca_pem: ca.pem(),
            ca_der: ca.der().to_vec(),
            leaf_pem: leaf.pem(),
            leaf_key,
        }
    }

    /// The leaf certificate and its unencrypted PKCS#8 PEM key.
    pub fn settings(&self) -> TlsSettings {
        TlsSettings {
            certificate_chain_pem: self.leaf_pem.clone().into_bytes(),
            key: self.leaf_key.serialize_pem().into_bytes(),
            password: None,
        }
    }

    /// The leaf certificate with its key as encrypted PKCS#8 PEM, and no password given yet.
    pub fn encrypted_settings(&self, password: &str) -> TlsSettings {
        let der = self.leaf_key.serialize_der();
        let info = PrivateKeyInfo::from_der(&der).expect("rcgen writes PKCS#8");
        // Few iterations keep the test fast; the format is the same as with many.
        let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(1_000, b"saltsalt", &[7; 16])
            .expect("valid parameters");
        let encrypted = info
            .encrypt_with_params(params, password)
            .expect("encryption works")
            .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .expect("PEM encoding works");
        TlsSettings {
            certificate_chain_pem: self.leaf_pem.clone().into_bytes(),
            key: encrypted.as_bytes().to_vec(),
            password: None,
        }
    }

    /// A client trusting only the test CA, sending `localhost` to `address`.
    pub fn reqwest_client(&self, address: SocketAddr) -> reqwest::Client {
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).expect("valid CA"),
            )
            .resolve("localhost", address)
            .build()
            .expect("the client builds")
    }

    /// A rustls client configuration trusting only the test CA, offering `alpn`.
    pub fn rustls_client(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.ca_der.clone().into())
            .expect("the CA is a valid trust anchor");
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the defaults")
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
        Arc::new(config)
    }
}
