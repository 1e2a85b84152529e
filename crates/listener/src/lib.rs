//! The HTTP listeners of Portcullis, as MAS's `http.listeners` describe them.
//!
//! Two steps, so that configuration mistakes stop the process before it serves anyone:
//!
//! 1. [`bind`] opens every socket of every [`ListenerSpec`] (TCP addresses, host names, unix
//!    sockets, sockets passed by systemd) and loads their TLS certificates;
//! 2. [`serve`] accepts connections on them with one [`axum::Router`] per listener, reading a
//!    PROXY protocol header and doing the TLS handshake where configured, then speaking
//!    HTTP/1.1 or HTTP/2, until a [`CancellationToken`](tokio_util::sync::CancellationToken)
//!    asks for a graceful shutdown.
//!
//! Handlers learn about the connection through the [`ConnectionInfo`] extractor.
//!
//! This crate knows nothing of the configuration file: the CLI translates it into these
//! plain types.

mod bind;
mod connection_info;
mod proxy_protocol;
mod serve;
mod tls;
mod unix_socket;

pub use self::{
    bind::{
        BindError, BindErrorKind, BindSpec, BoundListener, BoundListeners, FdKind, ListenerSpec,
        bind,
    },
    connection_info::{
        ConnectionInfo, LocalAddr, MissingConnectionInfo, ProxiedAddresses, TlsInfo,
    },
    serve::{ServeOptions, serve},
    tls::{TlsError, TlsSettings, rustls_server_config},
};
