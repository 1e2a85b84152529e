//! `database`: where the data lives. PostgreSQL as in MAS, or SQLite through a `sqlite:` URI
//! (our addition, and what the CLI uses when the section is absent).

use std::{
    num::NonZeroU32,
    path::{Path, PathBuf},
    time::Duration,
};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    path::join,
    problem::Problem,
    secret::{self, Presence, REDACTED, Secret, SecretSource},
    types::Port,
};

/// How to connect to the database, and the connection pool's limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DatabaseConfig {
    /// Connection URI: `postgresql://user:password@host:5432/db?sslmode=require`, or
    /// `sqlite:path/to/file.db` / `sqlite:///absolute/path.db` for SQLite. Cannot be combined
    /// with the separate PostgreSQL parameters below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,

    /// PostgreSQL host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// PostgreSQL port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Port>,
    /// Directory holding PostgreSQL's UNIX socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<PathBuf>,
    /// PostgreSQL user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// PostgreSQL password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// File holding the PostgreSQL password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// PostgreSQL database name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,

    /// How to use TLS towards PostgreSQL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_mode: Option<SslMode>,
    /// PEM root certificate to verify the server with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_ca: Option<String>,
    /// File holding the PEM root certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_ca_file: Option<PathBuf>,
    /// PEM client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_certificate: Option<String>,
    /// File holding the PEM client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_certificate_file: Option<PathBuf>,
    /// PEM client key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_key: Option<Secret>,
    /// File holding the PEM client key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_key_file: Option<PathBuf>,

    /// Most connections the pool keeps open.
    #[serde(default = "default_max_connections")]
    pub max_connections: NonZeroU32,
    /// Fewest connections the pool keeps open.
    #[serde(default)]
    pub min_connections: u32,
    /// Seconds to wait for a connection.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: u64,
    /// Seconds after which an idle connection is closed.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: u64,
    /// Seconds after which any connection is closed.
    #[serde(default = "default_max_lifetime")]
    pub max_lifetime: u64,
}

fn default_max_connections() -> NonZeroU32 {
    NonZeroU32::new(10).expect("10 is not zero")
}

fn default_connect_timeout() -> u64 {
    30
}

fn default_idle_timeout() -> u64 {
    600
}

fn default_max_lifetime() -> u64 {
    1800
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            uri: None,
            host: None,
            port: None,
            socket: None,
            username: None,
            password: None,
            password_file: None,
            database: None,
            ssl_mode: None,
            ssl_ca: None,
            ssl_ca_file: None,
            ssl_certificate: None,
            ssl_certificate_file: None,
            ssl_key: None,
            ssl_key_file: None,
            max_connections: default_max_connections(),
            min_connections: 0,
            connect_timeout: default_connect_timeout(),
            idle_timeout: default_idle_timeout(),
            max_lifetime: default_max_lifetime(),
        }
    }
}

/// PostgreSQL's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// Plain first, TLS if that fails.
    Allow,
    /// TLS first, plain if that fails.
    Prefer,
    /// TLS only, verifying the CA if one is given.
    Require,
    /// TLS only, verifying the CA.
    VerifyCa,
    /// TLS only, verifying the CA and the host name.
    VerifyFull,
}

/// Which database engine a configuration selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, in this file (or `:memory:`).
    Sqlite {
        /// The database file, resolved against the base directory when relative.
        path: PathBuf,
    },
    /// PostgreSQL, reached with the section's URI or parameters.
    Postgres,
}

/// The file a `sqlite:` URI names (relative as written), or `None` for another scheme.
///
/// `sqlite:mas.db` and `sqlite://mas.db` are relative, `sqlite:///var/lib/mas.db` is absolute;
/// a query string (`?mode=rwc`) is not part of the path.
fn sqlite_path(uri: &str) -> Option<&str> {
    let scheme = uri.get(..7)?;
    if !scheme.eq_ignore_ascii_case("sqlite:") {
        return None;
    }
    let rest = &uri[7..];
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    Some(rest.split_once('?').map_or(rest, |(path, _query)| path))
}

impl DatabaseConfig {
    /// A configuration for `uri`, with the pool at its defaults.
    #[must_use]
    pub fn with_uri(uri: impl Into<String>) -> Self {
        Self {
            uri: Some(uri.into()),
            ..Self::default()
        }
    }

    /// The database engine, with a relative SQLite path resolved against `base_dir` (the
    /// directory of the first configuration file).
    #[must_use]
    pub fn backend(&self, base_dir: &Path) -> Backend {
        match self.uri.as_deref().and_then(sqlite_path) {
            Some(path) if path == ":memory:" => Backend::Sqlite { path: path.into() },
            Some(path) => Backend::Sqlite {
                path: base_dir.join(path),
            },
            None => Backend::Postgres,
        }
    }

    /// Where the PostgreSQL password comes from, when given separately.
    #[must_use]
    pub fn password(&self) -> Option<SecretSource> {
        secret::source(self.password.as_ref(), self.password_file.as_ref())
    }

    /// Where the PEM root certificate comes from.
    #[must_use]
    pub fn ssl_ca(&self) -> Option<SecretSource> {
        let inline = self.ssl_ca.as_deref().map(Secret::from);
        secret::source(inline.as_ref(), self.ssl_ca_file.as_ref())
    }

    /// Where the PEM client certificate comes from.
    #[must_use]
    pub fn ssl_certificate(&self) -> Option<SecretSource> {
        let inline = self.ssl_certificate.as_deref().map(Secret::from);
        secret::source(inline.as_ref(), self.ssl_certificate_file.as_ref())
    }

    /// Where the PEM client key comes from.
    #[must_use]
    pub fn ssl_key(&self) -> Option<SecretSource> {
        secret::source(self.ssl_key.as_ref(), self.ssl_key_file.as_ref())
    }

    /// Time to wait for a connection.
    #[must_use]
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout)
    }

    /// Time after which an idle connection is closed.
    #[must_use]
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout)
    }

    /// Time after which any connection is closed.
    #[must_use]
    pub fn max_lifetime(&self) -> Duration {
        Duration::from_secs(self.max_lifetime)
    }

    /// Names of the separate PostgreSQL parameters that are set.
    fn separate_parameters(&self) -> Vec<&'static str> {
        [
            ("host", self.host.is_some()),
            ("port", self.port.is_some()),
            ("socket", self.socket.is_some()),
            ("username", self.username.is_some()),
            ("password", self.password.is_some()),
            ("password_file", self.password_file.is_some()),
            ("database", self.database.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let separate = self.separate_parameters();
        if let Some(uri) = &self.uri {
            if !separate.is_empty() {
                problems.push(
                    Problem::error(
                        "database.uri",
                        format!(
                            "`uri` cannot be combined with {}",
                            separate
                                .iter()
                                .map(|name| format!("`{name}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .with_hint("give either a full `uri` or the separate parameters"),
                );
            }
            self.validate_uri(uri, &mut problems);
        }
        let pairs = [
            (
                "password",
                self.password.is_some(),
                self.password_file.is_some(),
            ),
            ("ssl_ca", self.ssl_ca.is_some(), self.ssl_ca_file.is_some()),
            (
                "ssl_certificate",
                self.ssl_certificate.is_some(),
                self.ssl_certificate_file.is_some(),
            ),
            (
                "ssl_key",
                self.ssl_key.is_some(),
                self.ssl_key_file.is_some(),
            ),
        ];
        for (name, inline, file) in pairs {
            secret::check_pair(
                &mut problems,
                "database",
                name,
                (inline, file),
                Presence::Optional,
            );
        }
        if self.min_connections > self.max_connections.get() {
            problems.push(Problem::error(
                "database.min_connections",
                format!(
                    "{} is more than max_connections ({})",
                    self.min_connections, self.max_connections
                ),
            ));
        }
        problems
    }

    fn validate_uri(&self, uri: &str, problems: &mut Vec<Problem>) {
        if let Some(path) = sqlite_path(uri) {
            if path.is_empty() {
                problems.push(
                    Problem::error("database.uri", "the SQLite URI names no file")
                        .with_hint("write e.g. `sqlite:mas.db` or `sqlite:///var/lib/mas/mas.db`"),
                );
            }
            let tls_options = self.ssl_mode.is_some()
                || self.ssl_ca().is_some()
                || self.ssl_certificate().is_some()
                || self.ssl_key().is_some();
            if tls_options {
                problems.push(Problem::warning(
                    join("database", "ssl_mode"),
                    "TLS options only apply to PostgreSQL, ignored with SQLite",
                ));
            }
            return;
        }
        match Url::parse(uri) {
            Ok(url) if matches!(url.scheme(), "postgres" | "postgresql") => {}
            Ok(url) => problems.push(
                Problem::error(
                    "database.uri",
                    format!("unsupported database scheme `{}`", url.scheme()),
                )
                .with_hint("use a postgresql:// or a sqlite: URI"),
            ),
            Err(error) => problems.push(
                Problem::error(
                    "database.uri",
                    format!("not a valid connection URI: {error}"),
                )
                .with_hint("use a postgresql:// or a sqlite: URI"),
            ),
        }
    }

    pub(crate) fn redact_secrets(&mut self) {
        secret::redact(&mut self.password);
        secret::redact(&mut self.ssl_key);
        if let Some(uri) = &mut self.uri
            && let Ok(url) = Url::parse(uri)
            && let Some(password) = url.password()
        {
            let written = format!(":{password}@");
            *uri = url.as_str().replacen(&written, &format!(":{REDACTED}@"), 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_sqlite_uri_resolves_against_the_base_directory() {
        let config = DatabaseConfig::with_uri("sqlite:mas.db");
        assert_eq!(
            config.backend(Path::new("/etc/mas")),
            Backend::Sqlite {
                path: PathBuf::from("/etc/mas/mas.db")
            }
        );
    }

    #[test]
    fn an_absolute_sqlite_uri_is_kept_as_is() {
        let config = DatabaseConfig::with_uri("sqlite:///var/lib/mas/mas.db?mode=rwc");
        assert_eq!(
            config.backend(Path::new("/etc/mas")),
            Backend::Sqlite {
                path: PathBuf::from("/var/lib/mas/mas.db")
            }
        );
    }

    #[test]
    fn a_postgres_uri_selects_postgres() {
        let config = DatabaseConfig::with_uri("postgresql://mas@db/mas");
        assert_eq!(config.backend(Path::new("/")), Backend::Postgres);
        assert!(config.validate().is_empty());
    }

    #[test]
    fn a_uri_with_separate_parameters_is_an_error() {
        let config = DatabaseConfig {
            host: Some("db".to_owned()),
            ..DatabaseConfig::with_uri("postgresql://")
        };
        let problems = config.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "database.uri");
        assert!(problems[0].message.contains("`host`"));
    }

    #[test]
    fn an_unknown_scheme_is_an_error() {
        let problems = DatabaseConfig::with_uri("mysql://db/mas").validate();
        assert!(problems.iter().any(|p| p.message.contains("`mysql`")));
    }

    #[test]
    fn redaction_hides_the_password_inside_the_uri() {
        let mut config = DatabaseConfig::with_uri("postgresql://mas:pw@db/mas");
        config.redact_secrets();
        assert_eq!(
            config.uri.as_deref(),
            Some("postgresql://mas:<redacted>@db/mas")
        );
    }
}
