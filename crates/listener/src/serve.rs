//! The accept loops and the life of one connection: PROXY header, TLS handshake, HTTP/1.1 or
//! HTTP/2, and graceful shutdown.

use std::{future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use axum::Router;
use hyper::{Request, body::Incoming, service::service_fn};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    time::Instant,
};
use tokio_rustls::TlsAcceptor;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::ServiceExt;
use tracing::Instrument;

use crate::{
    bind::{Accepted, BoundListener, BoundSocket},
    connection_info::{ConnectionInfo, LocalAddr, TlsInfo},
    proxy_protocol::{Rewind, read_proxy_header},
};

/// Tunables of [`serve`].
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// How long a new connection has to send its PROXY header and complete the TLS handshake.
    /// Bounds what a client that connects and stays silent can hold.
    pub handshake_timeout: Duration,
    /// How long in-flight requests may take to finish once shutdown is requested; connections
    /// still open after that are closed.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(60),
        }
    }
}

/// How long to pause accepting after a resource error such as running out of file
/// descriptors, instead of spinning on an error that will repeat at once.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// Serves each listener with its router until `shutdown` is cancelled.
///
/// Every request carries a [`ConnectionInfo`] extension. Errors on single connections are
/// logged and never stop a listener. On shutdown, accepting stops at once, idle connections
/// close, and requests in flight get [`ServeOptions::shutdown_grace`] to finish; this
/// returns when every connection is gone.
pub async fn serve(
    listeners: impl IntoIterator<Item = (BoundListener, Router)>,
    options: ServeOptions,
    shutdown: CancellationToken,
) {
    let tasks = TaskTracker::new();
    // Cancelled when the grace period is over, to drop connections still open.
    let force_close = CancellationToken::new();
    let http = Arc::new(http_builder());

    for (listener, router) in listeners {
        let context = Arc::new(ListenerContext {
            name: listener.name,
            proxy_protocol: listener.proxy_protocol,
            tls: listener.tls.map(TlsAcceptor::from),
            router,
            http: Arc::clone(&http),
            handshake_timeout: options.handshake_timeout,
            shutdown: shutdown.clone(),
            force_close: force_close.clone(),
            tasks: tasks.clone(),
        });
        for socket in listener.sockets {
            // The caller announces readiness at info level; this adds the details.
            tracing::debug!(
                listener = %context.name,
                address = %socket.local,
                tls = context.tls.is_some(),
                proxy_protocol = context.proxy_protocol,
                "listening",
            );
            tasks.spawn(accept_loop(Arc::clone(&context), socket));
        }
    }

    shutdown.cancelled().await;
    tasks.close();
    tracing::info!(grace = ?options.shutdown_grace, "shutting down, letting in-flight requests finish");
    if tokio::time::timeout(options.shutdown_grace, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!("grace period over, closing the remaining connections");
        force_close.cancel();
        tasks.wait().await;
    }
}

fn http_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper only enforces its HTTP/1 header read timeout (slow-loris protection) and HTTP/2
    // keep-alive when it has a timer.
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    builder
}

struct ListenerContext {
    name: Arc<str>,
    proxy_protocol: bool,
    tls: Option<TlsAcceptor>,
    router: Router,
    http: Arc<auto::Builder<TokioExecutor>>,
    handshake_timeout: Duration,
    shutdown: CancellationToken,
    force_close: CancellationToken,
    tasks: TaskTracker,
}

async fn accept_loop(context: Arc<ListenerContext>, socket: BoundSocket) {
    loop {
        let accepted = tokio::select! {
            () = context.shutdown.cancelled() => break,
            accepted = socket.listener.accept() => accepted,
        };
        match accepted {
            Ok(Accepted::Tcp(stream, peer)) => {
                // Responses are written whole; Nagle's algorithm would only delay them.
                if let Err(error) = stream.set_nodelay(true) {
                    tracing::debug!(%error, "cannot set TCP_NODELAY");
                }
                let local = socket.local.clone();
                context.tasks.spawn(handle_connection(
                    Arc::clone(&context),
                    local,
                    stream,
                    Some(peer),
                ));
            }
            Ok(Accepted::Unix(stream)) => {
                let local = socket.local.clone();
                context
                    .tasks
                    .spawn(handle_connection(Arc::clone(&context), local, stream, None));
            }
            Err(error) if is_connection_error(&error) => {
                tracing::debug!(listener = %context.name, %error, "connection failed while being accepted");
            }
            Err(error) => {
                tracing::error!(listener = %context.name, address = %socket.local, %error, "cannot accept connections");
                tokio::select! {
                    () = context.shutdown.cancelled() => break,
                    () = tokio::time::sleep(ACCEPT_ERROR_BACKOFF) => {}
                }
            }
        }
    }
    // Dropping the socket here closes it: new clients are refused from now on.
}

/// Errors that concern one connection (the client gave up before we accepted it), as
/// opposed to the listening socket or the process running out of resources.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

async fn handle_connection<S>(
    context: Arc<ListenerContext>,
    local: LocalAddr,
    stream: S,
    transport_peer: Option<SocketAddr>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let span = tracing::debug_span!(
        "connection",
        listener = %context.name,
        local = %local,
        peer = ?transport_peer,
    );
    async move {
        // One deadline for the whole handshake, PROXY header and TLS together.
        let deadline = Instant::now() + context.handshake_timeout;

        let (proxied, stream) = if context.proxy_protocol {
            match before_deadline(&context, deadline, read_proxy_header(stream)).await {
                Some(Ok(header)) => header,
                Some(Err(error)) => {
                    tracing::warn!(%error, "closing a connection with no valid PROXY header");
                    return;
                }
                None => return,
            }
        } else {
            (None, Rewind::plain(stream))
        };

        let mut info = ConnectionInfo {
            listener: Arc::clone(&context.name),
            local,
            transport_peer,
            proxied,
            tls: None,
        };

        match &context.tls {
            None => serve_http(&context, info, stream).await,
            Some(acceptor) => {
                let stream =
                    match before_deadline(&context, deadline, acceptor.accept(stream)).await {
                        Some(Ok(stream)) => stream,
                        Some(Err(error)) => {
                            // Scanners and clients that distrust the certificate do this all day.
                            tracing::debug!(%error, "TLS handshake failed");
                            return;
                        }
                        None => return,
                    };
                let (_, session) = stream.get_ref();
                info.tls = Some(TlsInfo {
                    server_name: session.server_name().map(str::to_owned),
                    alpn_protocol: session.alpn_protocol().map(<[u8]>::to_vec),
                });
                serve_http(&context, info, stream).await;
            }
        }
    }
    .instrument(span)
    .await;
}

/// Runs one handshake step, giving up (`None`) at the deadline or on shutdown: a connection
/// that has not sent a request yet has nothing in flight to wait for.
async fn before_deadline<F: Future>(
    context: &ListenerContext,
    deadline: Instant,
    step: F,
) -> Option<F::Output> {
    tokio::select! {
        () = context.shutdown.cancelled() => None,
        output = tokio::time::timeout_at(deadline, step) => {
            if output.is_err() {
                tracing::info!("closing a connection that did not complete its handshake in time");
            }
            output.ok()
        }
    }
}

async fn serve_http<IO>(context: &ListenerContext, info: ConnectionInfo, io: IO)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let router = context.router.clone();
    let service = service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(info.clone());
        router.clone().oneshot(request)
    });

    let connection = context
        .http
        .serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(connection);

    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = context.shutdown.cancelled() => {
            // Idle keep-alive connections close now; a request in flight finishes first
            // (HTTP/2 clients get a GOAWAY).
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => result,
                () = context.force_close.cancelled() => return,
            }
        }
    };
    if let Err(error) = result {
        // Mostly clients going away mid-request: worth a trace when debugging, not an alarm.
        tracing::debug!(%error, "HTTP connection ended with an error");
    }
}
