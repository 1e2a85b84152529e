//! `http`: the public URL of the service, its listeners and the proxies it trusts.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    path::{index, join},
    problem::Problem,
    secret::{self, Presence, Secret, SecretSource},
    sections::check_http_url,
    types::{FileMode, IpNetwork, Port},
};

/// The web server: where it is reachable, what it listens on, which proxies it trusts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HttpConfig {
    /// Listeners to run. Defaults to MAS's two: `web` on `[::]:8080` (discovery, human, oauth,
    /// compat, graphql, assets) and `internal` on `localhost:8081` (health).
    #[serde(default = "default_listeners")]
    pub listeners: Vec<ListenerConfig>,

    /// Reverse proxies allowed to set `X-Forwarded-For`. Defaults to the private ranges.
    #[serde(default = "default_trusted_proxies")]
    pub trusted_proxies: Vec<IpNetwork>,

    /// Public URL base from which the service is reachable, used to build absolute URLs.
    #[serde(default = "default_public_base")]
    pub public_base: Url,

    /// OIDC issuer advertised by the service. Defaults to `public_base`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<Url>,
}

fn default_public_base() -> Url {
    Url::parse("http://[::]:8080/").expect("the default public base is a valid URL")
}

fn default_trusted_proxies() -> Vec<IpNetwork> {
    // MAS's defaults, host bits included (`127.0.0.1/8`, `10.0.0.0/10`): kept as MAS has them so
    // that a dumped configuration matches the reference.
    [
        "192.168.0.0/16",
        "172.16.0.0/12",
        "10.0.0.0/10",
        "127.0.0.1/8",
        "fd00::/8",
        "::1/128",
    ]
    .iter()
    .map(|net| net.parse().expect("the default trusted proxies are valid"))
    .collect()
}

fn default_listeners() -> Vec<ListenerConfig> {
    vec![
        ListenerConfig {
            name: Some("web".to_owned()),
            resources: [
                ResourceName::Discovery,
                ResourceName::Human,
                ResourceName::OAuth,
                ResourceName::Compat,
                ResourceName::GraphQl,
                ResourceName::Assets,
            ]
            .into_iter()
            .map(Resource::new)
            .collect(),
            prefix: None,
            binds: vec![BindConfig::address("[::]:8080")],
            proxy_protocol: false,
            tls: None,
        },
        ListenerConfig {
            name: Some("internal".to_owned()),
            resources: vec![Resource::new(ResourceName::Health)],
            prefix: None,
            binds: vec![BindConfig::host_port(
                Some("localhost"),
                Port::new(8081).expect("8081 is a valid port"),
            )],
            proxy_protocol: false,
            tls: None,
        },
    ]
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listeners: default_listeners(),
            trusted_proxies: default_trusted_proxies(),
            public_base: default_public_base(),
            // MAS writes the issuer out explicitly in its defaults.
            issuer: Some(default_public_base()),
        }
    }
}

impl HttpConfig {
    /// The OIDC issuer: `issuer` if set, else `public_base`.
    #[must_use]
    pub fn issuer(&self) -> &Url {
        self.issuer.as_ref().unwrap_or(&self.public_base)
    }

    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        check_http_url(&mut problems, "http.public_base", &self.public_base);
        if let Some(issuer) = &self.issuer {
            check_http_url(&mut problems, "http.issuer", issuer);
        }
        if self.listeners.is_empty() {
            problems.push(
                Problem::warning("http.listeners", "no listeners: nothing will be served")
                    .with_hint("remove `listeners` to get the default ones"),
            );
        }
        let mut names = HashSet::new();
        for (i, listener) in self.listeners.iter().enumerate() {
            let path = index("http.listeners", i);
            if let Some(name) = &listener.name
                && !names.insert(name.as_str())
            {
                problems.push(
                    Problem::error(
                        join(&path, "name"),
                        format!("another listener is already named `{name}`"),
                    )
                    .with_hint("give each listener a unique name"),
                );
            }
            listener.validate(&path, &mut problems);
        }
        problems
    }

    pub(crate) fn redact_secrets(&mut self) {
        for listener in &mut self.listeners {
            if let Some(tls) = &mut listener.tls {
                secret::redact(&mut tls.key);
                secret::redact(&mut tls.password);
            }
        }
    }
}

/// One listener: a set of resources served on a set of sockets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ListenerConfig {
    /// A unique name, shown in logs and metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,

    /// Resources to serve.
    #[serde(default)]
    pub resources: Vec<Resource>,

    /// HTTP path prefix under which the resources are mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,

    /// Sockets to listen on.
    #[serde(default)]
    pub binds: Vec<BindConfig>,

    /// Expect HAProxy's PROXY protocol (v1) at the start of each connection.
    #[serde(default)]
    pub proxy_protocol: bool,

    /// Serve TLS with this certificate and key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

impl ListenerConfig {
    fn validate(&self, path: &str, problems: &mut Vec<Problem>) {
        if self.resources.is_empty() {
            problems.push(Problem::error(
                join(path, "resources"),
                "the listener has no resources",
            ));
        }
        for (i, resource) in self.resources.iter().enumerate() {
            resource.validate(&index(&join(path, "resources"), i), problems);
        }
        if self.binds.is_empty() {
            problems.push(
                Problem::error(join(path, "binds"), "the listener has no binds")
                    .with_hint("add e.g. `- address: \"[::]:8080\"`"),
            );
        }
        for (i, bind) in self.binds.iter().enumerate() {
            if let Err(error) = bind.form() {
                problems.push(
                    Problem::error(index(&join(path, "binds"), i), error.to_string()).with_hint(
                        "a bind is one of: `address`, `host` + `port`, `socket` (+ `mode`), or `fd` (+ `kind`)",
                    ),
                );
            }
        }
        if let Some(tls) = &self.tls {
            tls.validate(&join(path, "tls"), problems);
        }
    }
}

/// Names of the resources a listener can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResourceName {
    /// OIDC discovery (`/.well-known/openid-configuration`, webfinger).
    Discovery,
    /// Pages for people: login, registration, consent, account.
    Human,
    /// The OAuth 2.0 / OIDC API (token, introspection, revocation, registration...).
    #[serde(rename = "oauth")]
    OAuth,
    /// The Matrix client-server API compatibility endpoints (`/_matrix/client/*/login`...).
    Compat,
    /// The GraphQL API used by the account pages.
    #[serde(rename = "graphql")]
    GraphQl,
    /// Static assets under `/assets/`.
    Assets,
    /// The admin API under `/api/admin/v1`.
    #[serde(rename = "adminapi")]
    AdminApi,
    /// The health check at `/health`.
    Health,
    /// Prometheus metrics at `/metrics`.
    Prometheus,
    /// A debugging dump of connection information at `/connection-info`.
    #[serde(rename = "connection-info")]
    ConnectionInfo,
}

/// Who may introspect the GraphQL schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GraphQlIntrospection {
    /// Anyone.
    Public,
    /// Authenticated requests only.
    AuthenticatedOnly,
}

/// A resource served by a listener, written `- name: <resource>` plus its options.
///
/// Options apply to one kind of resource only (`playground` to `graphql`, `path` to `assets`);
/// elsewhere they are ignored with a warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Resource {
    /// Which resource.
    pub name: ResourceName,

    /// `graphql`: serve the GraphQL playground at `/graphql/playground`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playground: Option<bool>,

    /// `graphql`: who may introspect the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection: Option<GraphQlIntrospection>,

    /// `graphql`: accept OAuth 2.0 access tokens (undocumented in MAS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undocumented_oauth2_access: Option<bool>,

    /// `assets`: serve files from this directory instead of the assets built into the binary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

impl Resource {
    /// The resource `name` with no options.
    #[must_use]
    pub fn new(name: ResourceName) -> Self {
        Self {
            name,
            playground: None,
            introspection: None,
            undocumented_oauth2_access: None,
            path: None,
        }
    }

    fn validate(&self, path: &str, problems: &mut Vec<Problem>) {
        let mut misplaced = |option: &str, set: bool, owner: &str| {
            if set {
                problems.push(Problem::warning(
                    join(path, option),
                    format!("only applies to the `{owner}` resource, ignored"),
                ));
            }
        };
        if self.name != ResourceName::GraphQl {
            misplaced("playground", self.playground.is_some(), "graphql");
            misplaced("introspection", self.introspection.is_some(), "graphql");
            misplaced(
                "undocumented_oauth2_access",
                self.undocumented_oauth2_access.is_some(),
                "graphql",
            );
        }
        if self.name != ResourceName::Assets {
            misplaced("path", self.path.is_some(), "assets");
        }
    }
}

/// Kind of socket handed over as a file descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SocketKind {
    /// A TCP socket.
    #[default]
    Tcp,
    /// A UNIX domain socket.
    Unix,
}

/// A socket to listen on, in one of four forms:
/// `address: "[::]:8080"`, `host` (optional) + `port`, `socket` + optional `mode`, or
/// `fd` + optional `kind` (sockets passed by systemd).
///
/// Kept flat so that a typo is reported as an unknown option; [`BindConfig::form`] gives the
/// typed form.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct BindConfig {
    /// Host and port, e.g. `[::]:8080` or `127.0.0.1:8080`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,

    /// Host to listen on with `port`; all addresses when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,

    /// Port to listen on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Port>,

    /// Path of a UNIX socket to create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<PathBuf>,

    /// Permissions of the UNIX socket, in octal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FileMode>,

    /// Index of a file descriptor passed by the parent process; 0 is descriptor 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fd: Option<usize>,

    /// Kind of the socket behind `fd`; TCP by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SocketKind>,
}

/// The typed form of a [`BindConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bind<'a> {
    /// `address: host:port`.
    Address(&'a str),
    /// `host` + `port`.
    Listen {
        /// Host; all addresses when absent.
        host: Option<&'a str>,
        /// Port.
        port: Port,
    },
    /// `socket` + `mode`.
    Unix {
        /// Socket path.
        socket: &'a Path,
        /// Permissions to set on the socket.
        mode: Option<FileMode>,
    },
    /// `fd` + `kind`.
    FileDescriptor {
        /// Descriptor index, offset by 3.
        fd: usize,
        /// Socket kind.
        kind: SocketKind,
    },
}

/// Why a bind is not one of the four forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    /// Nothing to listen on.
    #[error("the bind says nothing to listen on")]
    Empty,
    /// Options of several forms together.
    #[error("the bind mixes {0}")]
    Mixed(String),
    /// A host with no port.
    #[error("`host` needs a `port`")]
    HostWithoutPort,
    /// `address` is not `host:port`.
    #[error("`{0}` is not of the form host:port, e.g. \"[::]:8080\"")]
    BadAddress(String),
}

impl BindConfig {
    /// A bind on `address` (`host:port`).
    #[must_use]
    pub fn address(address: impl Into<String>) -> Self {
        Self {
            address: Some(address.into()),
            ..Self::default()
        }
    }

    /// A bind on `host` (all addresses when `None`) and `port`.
    #[must_use]
    pub fn host_port(host: Option<&str>, port: Port) -> Self {
        Self {
            host: host.map(str::to_owned),
            port: Some(port),
            ..Self::default()
        }
    }

    /// The form this bind takes.
    ///
    /// # Errors
    /// When it is empty, mixes forms, or has an unusable address.
    pub fn form(&self) -> Result<Bind<'_>, BindError> {
        let forms: Vec<&str> = [
            (self.address.is_some(), "`address`"),
            (self.host.is_some() || self.port.is_some(), "`host`/`port`"),
            (
                self.socket.is_some() || self.mode.is_some(),
                "`socket`/`mode`",
            ),
            (self.fd.is_some() || self.kind.is_some(), "`fd`/`kind`"),
        ]
        .into_iter()
        .filter_map(|(present, name)| present.then_some(name))
        .collect();
        if forms.len() > 1 {
            return Err(BindError::Mixed(forms.join(" and ")));
        }
        if let Some(address) = &self.address {
            let valid = address.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().ok().and_then(Port::new).is_some()
            });
            return if valid {
                Ok(Bind::Address(address))
            } else {
                Err(BindError::BadAddress(address.clone()))
            };
        }
        if let Some(port) = self.port {
            return Ok(Bind::Listen {
                host: self.host.as_deref(),
                port,
            });
        }
        if self.host.is_some() {
            return Err(BindError::HostWithoutPort);
        }
        if let Some(socket) = &self.socket {
            return Ok(Bind::Unix {
                socket,
                mode: self.mode,
            });
        }
        if self.mode.is_some() {
            return Err(BindError::Mixed("`mode` without a `socket`".to_owned()));
        }
        if self.fd.is_some() || self.kind.is_some() {
            return Ok(Bind::FileDescriptor {
                fd: self.fd.unwrap_or(0),
                kind: self.kind.unwrap_or_default(),
            });
        }
        Err(BindError::Empty)
    }
}

/// TLS for a listener: a certificate chain and its private key, each inline or from a file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct TlsConfig {
    /// PEM certificate chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// File holding the PEM certificate chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_file: Option<PathBuf>,
    /// PEM private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Secret>,
    /// File holding the PEM or DER private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Password of an encrypted private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// File holding the password of an encrypted private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
}

impl TlsConfig {
    /// Where the certificate chain comes from.
    #[must_use]
    pub fn certificate(&self) -> Option<SecretSource> {
        let inline = self.certificate.as_deref().map(Secret::from);
        secret::source(inline.as_ref(), self.certificate_file.as_ref())
    }

    /// Where the private key comes from.
    #[must_use]
    pub fn key(&self) -> Option<SecretSource> {
        secret::source(self.key.as_ref(), self.key_file.as_ref())
    }

    /// Where the key's password comes from, if it has one.
    #[must_use]
    pub fn password(&self) -> Option<SecretSource> {
        secret::source(self.password.as_ref(), self.password_file.as_ref())
    }

    fn validate(&self, path: &str, problems: &mut Vec<Problem>) {
        let pairs = [
            (
                "certificate",
                self.certificate.is_some(),
                self.certificate_file.is_some(),
                Presence::Required,
            ),
            (
                "key",
                self.key.is_some(),
                self.key_file.is_some(),
                Presence::Required,
            ),
            (
                "password",
                self.password.is_some(),
                self.password_file.is_some(),
                Presence::Optional,
            ),
        ];
        for (name, inline, file, presence) in pairs {
            secret::check_pair(problems, path, name, (inline, file), presence);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_listeners_are_mas_web_and_internal() {
        let http = HttpConfig::default();
        let names: Vec<_> = http
            .listeners
            .iter()
            .map(|listener| listener.name.as_deref())
            .collect();
        assert_eq!(names, [Some("web"), Some("internal")]);
        assert_eq!(
            http.listeners[1].binds[0].form(),
            Ok(Bind::Listen {
                host: Some("localhost"),
                port: Port::new(8081).expect("a valid port"),
            })
        );
    }

    #[test]
    fn a_bind_mixing_address_and_port_is_refused() {
        let bind = BindConfig {
            address: Some("[::]:8080".to_owned()),
            port: Port::new(8081),
            ..BindConfig::default()
        };
        assert!(matches!(bind.form(), Err(BindError::Mixed(_))));
    }

    #[test]
    fn an_empty_bind_is_refused() {
        assert_eq!(BindConfig::default().form(), Err(BindError::Empty));
    }

    #[test]
    fn an_fd_bind_defaults_to_tcp() {
        let bind = BindConfig {
            fd: Some(1),
            ..BindConfig::default()
        };
        assert_eq!(
            bind.form(),
            Ok(Bind::FileDescriptor {
                fd: 1,
                kind: SocketKind::Tcp
            })
        );
    }

    #[test]
    fn an_address_without_a_port_is_refused() {
        let bind = BindConfig::address("localhost");
        assert!(matches!(bind.form(), Err(BindError::BadAddress(_))));
    }

    #[test]
    fn two_listeners_with_the_same_name_are_an_error() {
        let mut http = HttpConfig::default();
        http.listeners[1].name = Some("web".to_owned());
        let problems = http.validate();
        assert!(
            problems
                .iter()
                .any(|p| p.is_error() && p.path == "http.listeners[1].name")
        );
    }

    #[test]
    fn the_issuer_defaults_to_the_public_base() {
        let http = HttpConfig {
            issuer: None,
            public_base: Url::parse("https://auth.example.com/").expect("a valid URL"),
            ..HttpConfig::default()
        };
        assert_eq!(http.issuer().as_str(), "https://auth.example.com/");
    }
}
