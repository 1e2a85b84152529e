//! What a handler may know about the connection its request came in on.

use std::{
    convert::Infallible,
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    response::{IntoResponse, Response},
};
use http::{StatusCode, request::Parts};

/// The local end of a bound socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalAddr {
    /// A TCP socket, with the port the kernel actually gave (useful when binding port 0).
    Tcp(SocketAddr),
    /// A unix socket. The path is `None` for an unnamed socket (possible with systemd activation).
    Unix(Option<Arc<Path>>),
}

impl LocalAddr {
    /// The TCP address, if this is a TCP socket.
    #[must_use]
    pub fn tcp(&self) -> Option<SocketAddr> {
        match self {
            Self::Tcp(address) => Some(*address),
            Self::Unix(_) => None,
        }
    }

    /// The socket path, if this is a named unix socket.
    #[must_use]
    pub fn unix_path(&self) -> Option<&Path> {
        match self {
            Self::Tcp(_) => None,
            Self::Unix(path) => path.as_deref(),
        }
    }

    pub(crate) fn unix(path: Option<PathBuf>) -> Self {
        Self::Unix(path.map(Arc::from))
    }
}

impl fmt::Display for LocalAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(address) => write!(f, "{address}"),
            Self::Unix(Some(path)) => write!(f, "unix:{}", path.display()),
            Self::Unix(None) => f.write_str("unix:(unnamed)"),
        }
    }
}

/// The addresses a PROXY protocol header announced for a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxiedAddresses {
    /// The client the proxy accepted the connection from.
    pub source: SocketAddr,
    /// The address the client connected to on the proxy.
    pub destination: SocketAddr,
}

/// What the TLS handshake settled on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsInfo {
    /// The server name the client asked for (SNI), if it sent one.
    pub server_name: Option<String>,
    /// The application protocol negotiated with ALPN (`h2`, `http/1.1`), if any.
    pub alpn_protocol: Option<Vec<u8>>,
}

/// Describes the connection a request arrived on. Inserted as a request extension by
/// [`serve`](crate::serve) and extracted in handlers as `ConnectionInfo` (or
/// `Option<ConnectionInfo>` for code that must also run outside a real listener).
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    /// The `name` of the listener, as configured.
    pub listener: Arc<str>,
    /// The local socket that accepted the connection.
    pub local: LocalAddr,
    /// The address of the other end of the socket: a proxy when the PROXY protocol is on,
    /// `None` on unix sockets.
    pub transport_peer: Option<SocketAddr>,
    /// Present when the connection began with a PROXY protocol header naming addresses (a
    /// `LOCAL` or `UNKNOWN` header, as load balancers send for health checks, names none).
    pub proxied: Option<ProxiedAddresses>,
    /// Present when the connection is TLS.
    pub tls: Option<TlsInfo>,
}

impl ConnectionInfo {
    /// The client as far as this connection can tell: the source announced by the PROXY
    /// header when there was one, else the socket peer.
    ///
    /// This does not look at `X-Forwarded-For`; trusting it is a policy decision made above.
    #[must_use]
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.proxied
            .map(|proxied| proxied.source)
            .or(self.transport_peer)
    }

    /// Whether the connection was TLS.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }
}

/// Rejection of the [`ConnectionInfo`] extractor: the request did not come through
/// [`serve`](crate::serve), which is a wiring bug, hence a 500.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request carries no connection information")]
pub struct MissingConnectionInfo;

impl IntoResponse for MissingConnectionInfo {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ConnectionInfo {
    type Rejection = MissingConnectionInfo;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(MissingConnectionInfo)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ConnectionInfo {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().cloned())
    }
}
