//! Turns `http.listeners` into sockets to bind.

use std::net::SocketAddr;

use portcullis_config::{
    Problem, SecretSource,
    sections::http::{Bind, HttpConfig, ListenerConfig, SocketKind, TlsConfig},
};
use portcullis_listener::{BindSpec, FdKind, ListenerSpec, TlsSettings};

/// The name a listener goes by in logs and errors: its own, or its position.
pub fn listener_name(listener: &ListenerConfig, index: usize) -> String {
    listener.name.clone().unwrap_or_else(|| format!("#{index}"))
}

/// Checks what the configuration alone cannot: that TLS certificates and keys can be read and
/// belong together.
pub fn check(http: &HttpConfig) -> Result<(), Vec<Problem>> {
    let problems: Vec<Problem> = http
        .listeners
        .iter()
        .enumerate()
        .filter_map(|(index, listener)| {
            let tls = listener.tls.as_ref()?;
            let path = format!("http.listeners[{index}].tls");
            match tls_settings(tls, &path) {
                Ok(settings) => portcullis_listener::rustls_server_config(&settings)
                    .err()
                    .map(|error| Problem::error(path, error.to_string())),
                Err(problem) => Some(problem),
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// One [`ListenerSpec`] per configured listener, in order, paired with its configuration.
pub fn specs(http: &HttpConfig) -> Result<Vec<(ListenerSpec, &ListenerConfig)>, Problem> {
    http.listeners
        .iter()
        .enumerate()
        .map(|(index, listener)| {
            let path = format!("http.listeners[{index}]");
            let binds = listener
                .binds
                .iter()
                .enumerate()
                .map(|(bind_index, bind)| {
                    let bind_path = format!("{path}.binds[{bind_index}]");
                    let form = bind
                        .form()
                        .map_err(|error| Problem::error(&bind_path, error.to_string()))?;
                    Ok(bind_spec(form))
                })
                .collect::<Result<Vec<_>, Problem>>()?;
            let tls = listener
                .tls
                .as_ref()
                .map(|tls| tls_settings(tls, &format!("{path}.tls")))
                .transpose()?;
            let spec = ListenerSpec {
                name: listener_name(listener, index),
                binds,
                proxy_protocol: listener.proxy_protocol,
                tls,
            };
            Ok((spec, listener))
        })
        .collect()
}

fn bind_spec(form: Bind<'_>) -> BindSpec {
    match form {
        Bind::Address(address) => match address.parse::<SocketAddr>() {
            Ok(address) => BindSpec::Tcp(address),
            // `localhost:8080`: a name, resolved when binding.
            Err(_) => {
                let (host, port) = address.rsplit_once(':').unwrap_or((address, "0"));
                let host = host.trim_start_matches('[').trim_end_matches(']');
                BindSpec::Host {
                    host: Some(host.to_owned()),
                    port: port.parse().unwrap_or(0),
                }
            }
        },
        Bind::Listen { host, port } => BindSpec::Host {
            host: host.map(str::to_owned),
            port: port.get(),
        },
        Bind::Unix { socket, mode } => BindSpec::Unix {
            path: socket.to_owned(),
            mode: mode.map(|m| m.bits()),
        },
        Bind::FileDescriptor { fd, kind } => BindSpec::Fd {
            fd,
            kind: match kind {
                SocketKind::Tcp => FdKind::Tcp,
                SocketKind::Unix => FdKind::Unix,
            },
        },
    }
}

fn tls_settings(tls: &TlsConfig, path: &str) -> Result<TlsSettings, Problem> {
    let read = |what: &str, source: Option<SecretSource>| -> Result<Option<Vec<u8>>, Problem> {
        source
            .map(|source| source.read())
            .transpose()
            .map_err(|error| {
                Problem::error(format!("{path}.{what}"), format!("cannot read it: {error}"))
            })
    };
    let certificate_chain_pem = read("certificate", tls.certificate())?.ok_or_else(|| {
        Problem::error(
            path,
            "a certificate is needed (`certificate` or `certificate_file`)",
        )
    })?;
    let key = read("key", tls.key())?
        .ok_or_else(|| Problem::error(path, "a private key is needed (`key` or `key_file`)"))?;
    let password = read("password", tls.password())?.map(|mut password| {
        while matches!(password.last(), Some(b'\n' | b'\r')) {
            password.pop();
        }
        password
    });
    Ok(TlsSettings {
        certificate_chain_pem,
        key,
        password,
    })
}
