//! Opening every socket of every listener before anything is served, so that a bad address
//! stops the process at start-up with a message naming the listener.

use std::{
    collections::HashSet,
    io,
    net::{Ipv4Addr, Ipv6Addr, SocketAddr},
    path::PathBuf,
    sync::Arc,
};

use listenfd::ListenFd;
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};

use crate::{
    connection_info::LocalAddr,
    tls::{TlsError, TlsSettings, rustls_server_config},
    unix_socket::bind_unix,
};

/// The kind of socket passed by systemd socket activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FdKind {
    /// A listening TCP socket.
    #[default]
    Tcp,
    /// A listening unix stream socket.
    Unix,
}

/// One address a listener accepts connections on (an entry of `binds` in the configuration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindSpec {
    /// `address: "[::]:8080"`.
    Tcp(SocketAddr),
    /// `host` + `port`. The host is resolved and every address it resolves to is bound. Without
    /// a host, `[::]` is bound (which also takes IPv4 on most systems), falling back to
    /// `0.0.0.0` where IPv6 is unavailable, as MAS does.
    Host {
        /// A name or an IP address; `None` for all interfaces.
        host: Option<String>,
        /// The port; 0 asks the kernel for a free one.
        port: u16,
    },
    /// `socket` + `mode`: a unix socket at `path`, given `mode` (such as `0o660`) before it
    /// becomes reachable. A stale socket at `path` is replaced; any other file is an error.
    Unix {
        /// Where the socket lives.
        path: PathBuf,
        /// Permission bits to give the socket.
        mode: Option<u32>,
    },
    /// `fd` + `kind`: a socket passed by systemd socket activation (`LISTEN_FDS`). As in MAS,
    /// `fd` counts the passed sockets from 0: 0 is the first one, file descriptor 3.
    Fd {
        /// Position among the passed sockets.
        fd: usize,
        /// What the passed socket must be.
        kind: FdKind,
    },
}

/// A listener as configured (an entry of `http.listeners`), minus its resources: the caller
/// builds a router for it.
#[derive(Clone, Debug)]
pub struct ListenerSpec {
    /// The listener's name, used in logs and errors.
    pub name: String,
    /// Where it accepts connections.
    pub binds: Vec<BindSpec>,
    /// Whether every connection starts with a PROXY protocol header (v1 or v2).
    pub proxy_protocol: bool,
    /// Serve HTTPS with this certificate instead of plain HTTP.
    pub tls: Option<TlsSettings>,
}

/// Why [`bind`] failed: which listener, and what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("listener `{listener}`: {kind}")]
pub struct BindError {
    /// The name of the listener that could not be set up.
    pub listener: String,
    /// What went wrong.
    pub kind: BindErrorKind,
}

/// The ways setting up one listener can fail.
#[derive(Debug, thiserror::Error)]
pub enum BindErrorKind {
    /// A TCP address could not be bound (in use, not local, privileged port...).
    #[error("cannot bind {address}: {error}")]
    Tcp {
        /// The address.
        address: SocketAddr,
        /// The system's reason.
        error: io::Error,
    },
    /// A `host` could not be resolved.
    #[error("cannot resolve `{host}`: {error}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's reason.
        error: io::Error,
    },
    /// A `host` resolved to nothing.
    #[error("`{host}` resolves to no address")]
    NoAddress {
        /// The host name.
        host: String,
    },
    /// A unix socket could not be bound.
    #[error("cannot bind unix socket {}: {error}", path.display())]
    Unix {
        /// The socket path.
        path: PathBuf,
        /// The system's reason.
        error: io::Error,
    },
    /// The unix socket path is taken by something that is not a socket, which is never
    /// deleted.
    #[error("cannot bind unix socket {}: the path exists and is not a socket", path.display())]
    NotASocket {
        /// The socket path.
        path: PathBuf,
    },
    /// The unix socket's mode could not be set.
    #[error("cannot set mode {mode:o} on unix socket {}: {error}", path.display())]
    SocketMode {
        /// The socket path.
        path: PathBuf,
        /// The requested mode.
        mode: u32,
        /// The system's reason.
        error: io::Error,
    },
    /// Socket activation did not pass a socket at this position.
    #[error(
        "no socket passed by the service manager at fd {fd} (it passed {passed}; fd counts from \
         0, the first passed socket)"
    )]
    FdMissing {
        /// The requested position.
        fd: usize,
        /// How many sockets `LISTEN_FDS` announced.
        passed: usize,
    },
    /// The passed socket is not of the expected kind, or cannot be used.
    #[error("cannot use the socket passed at fd {fd} as a {kind:?} listener: {error}")]
    Fd {
        /// The requested position.
        fd: usize,
        /// The expected kind.
        kind: FdKind,
        /// The reason.
        error: io::Error,
    },
    /// The TLS certificate or key is unusable.
    #[error("TLS: {0}")]
    Tls(TlsError),
}

/// All listeners, bound and ready to [`serve`](crate::serve).
#[derive(Debug)]
pub struct BoundListeners {
    listeners: Vec<BoundListener>,
}

impl BoundListeners {
    /// The listener with this name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&BoundListener> {
        self.listeners
            .iter()
            .find(|listener| &*listener.name == name)
    }

    /// All listeners, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &BoundListener> {
        self.listeners.iter()
    }
}

impl IntoIterator for BoundListeners {
    type Item = BoundListener;
    type IntoIter = std::vec::IntoIter<BoundListener>;

    fn into_iter(self) -> Self::IntoIter {
        self.listeners.into_iter()
    }
}

/// One listener with its sockets open.
#[derive(Debug)]
pub struct BoundListener {
    pub(crate) name: Arc<str>,
    pub(crate) sockets: Vec<BoundSocket>,
    pub(crate) proxy_protocol: bool,
    pub(crate) tls: Option<Arc<ServerConfig>>,
}

impl BoundListener {
    /// The listener's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The addresses actually bound, in `binds` order (a host may add several). With port 0,
    /// this is where to find the port the kernel chose.
    #[must_use]
    pub fn local_addrs(&self) -> Vec<LocalAddr> {
        self.sockets
            .iter()
            .map(|socket| socket.local.clone())
            .collect()
    }

    /// Whether connections are served over TLS.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }
}

#[derive(Debug)]
pub(crate) struct BoundSocket {
    pub(crate) listener: SocketListener,
    pub(crate) local: LocalAddr,
}

#[derive(Debug)]
pub(crate) enum SocketListener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

pub(crate) enum Accepted {
    Tcp(TcpStream, SocketAddr),
    Unix(UnixStream),
}

impl SocketListener {
    pub(crate) async fn accept(&self) -> io::Result<Accepted> {
        match self {
            Self::Tcp(listener) => {
                let (stream, peer) = listener.accept().await?;
                Ok(Accepted::Tcp(stream, peer))
            }
            Self::Unix(listener) => {
                let (stream, _unnamed_peer) = listener.accept().await?;
                Ok(Accepted::Unix(stream))
            }
        }
    }
}

/// Binds every socket of every listener and loads their TLS configuration.
///
/// Nothing is served yet: the first failure is returned, naming the listener and the address,
/// so that a misconfigured process stops before accepting anyone.
///
/// # Errors
///
/// A [`BindError`] for the first listener that cannot be set up.
pub async fn bind(
    specs: impl IntoIterator<Item = ListenerSpec>,
) -> Result<BoundListeners, BindError> {
    // Taken from the environment once: systemd's sockets are handed out by position, each once.
    let mut passed_fds: Option<ListenFd> = None;
    let mut listeners = Vec::new();

    for spec in specs {
        let fail = |kind| BindError {
            listener: spec.name.clone(),
            kind,
        };

        let tls = spec
            .tls
            .as_ref()
            .map(rustls_server_config)
            .transpose()
            .map_err(|error| fail(BindErrorKind::Tls(error)))?;

        let mut sockets = Vec::new();
        for bind in &spec.binds {
            let bound = match bind {
                BindSpec::Tcp(address) => vec![bind_tcp(*address).await],
                BindSpec::Host { host: None, port } => vec![bind_any(*port).await],
                BindSpec::Host {
                    host: Some(host),
                    port,
                } => bind_host(host, *port).await.map_err(fail)?,
                BindSpec::Unix { path, mode } => {
                    vec![bind_unix(path, *mode).await.map(|listener| BoundSocket {
                        listener: SocketListener::Unix(listener),
                        local: LocalAddr::unix(Some(path.clone())),
                    })]
                }
                BindSpec::Fd { fd, kind } => {
                    let passed = passed_fds.get_or_insert_with(ListenFd::from_env);
                    vec![adopt_fd(passed, *fd, *kind)]
                }
            };
            for socket in bound {
                sockets.push(socket.map_err(fail)?);
            }
        }

        listeners.push(BoundListener {
            name: Arc::from(spec.name),
            sockets,
            proxy_protocol: spec.proxy_protocol,
            tls,
        });
    }

    Ok(BoundListeners { listeners })
}

async fn bind_tcp(address: SocketAddr) -> Result<BoundSocket, BindErrorKind> {
    let tcp_error = |error| BindErrorKind::Tcp { address, error };
    let listener = TcpListener::bind(address).await.map_err(tcp_error)?;
    let local = listener.local_addr().map_err(tcp_error)?;
    Ok(BoundSocket {
        listener: SocketListener::Tcp(listener),
        local: LocalAddr::Tcp(local),
    })
}

async fn bind_any(port: u16) -> Result<BoundSocket, BindErrorKind> {
    let ipv6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
    match bind_tcp(ipv6).await {
        Err(BindErrorKind::Tcp { error, .. }) if ipv6_unavailable(&error) => {
            bind_tcp(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).await
        }
        result => result,
    }
}

async fn bind_host(
    host: &str,
    port: u16,
) -> Result<Vec<Result<BoundSocket, BindErrorKind>>, BindErrorKind> {
    let resolved = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| BindErrorKind::Resolve {
            host: host.to_owned(),
            error,
        })?;
    let mut seen = HashSet::new();
    let addresses: Vec<SocketAddr> = resolved.filter(|address| seen.insert(*address)).collect();
    if addresses.is_empty() {
        return Err(BindErrorKind::NoAddress {
            host: host.to_owned(),
        });
    }

    let mut bound = Vec::new();
    let mut skipped = Vec::new();
    for address in &addresses {
        match bind_tcp(*address).await {
            // `localhost` often resolves to `::1` too on machines without IPv6: skip what the
            // machine cannot have, as long as some address binds.
            Err(BindErrorKind::Tcp { error, .. }) if ipv6_unavailable(&error) => {
                skipped.push((*address, error));
            }
            result => bound.push(result),
        }
    }
    if bound.is_empty() {
        let (address, error) = skipped
            .into_iter()
            .next()
            .expect("a host with addresses either bound one or skipped one");
        return Err(BindErrorKind::Tcp { address, error });
    }
    for (address, error) in skipped {
        tracing::warn!(host, %address, %error, "skipping an address the host resolves to");
    }
    Ok(bound)
}

/// Linux's EAFNOSUPPORT, which std does not map to an `ErrorKind`: the kernel has no IPv6.
const EAFNOSUPPORT: i32 = 97;

fn ipv6_unavailable(error: &io::Error) -> bool {
    error.raw_os_error() == Some(EAFNOSUPPORT) || error.kind() == io::ErrorKind::AddrNotAvailable
}

fn adopt_fd(passed: &mut ListenFd, fd: usize, kind: FdKind) -> Result<BoundSocket, BindErrorKind> {
    let fd_error = |error| BindErrorKind::Fd { fd, kind, error };
    let count = passed.len();
    let missing = || BindErrorKind::FdMissing { fd, passed: count };
    match kind {
        FdKind::Tcp => {
            let listener = passed
                .take_tcp_listener(fd)
                .map_err(fd_error)?
                .ok_or_else(missing)?;
            listener.set_nonblocking(true).map_err(fd_error)?;
            let listener = TcpListener::from_std(listener).map_err(fd_error)?;
            let local = listener.local_addr().map_err(fd_error)?;
            Ok(BoundSocket {
                listener: SocketListener::Tcp(listener),
                local: LocalAddr::Tcp(local),
            })
        }
        FdKind::Unix => {
            let listener = passed
                .take_unix_listener(fd)
                .map_err(fd_error)?
                .ok_or_else(missing)?;
            listener.set_nonblocking(true).map_err(fd_error)?;
            let listener = UnixListener::from_std(listener).map_err(fd_error)?;
            let path = listener
                .local_addr()
                .ok()
                .and_then(|address| address.as_pathname().map(PathBuf::from));
            Ok(BoundSocket {
                listener: SocketListener::Unix(listener),
                local: LocalAddr::unix(path),
            })
        }
    }
}
