//! What `syn2mas` reads in Synapse's configuration file: the server name, the database, the
//! password settings and every way of signing in that moves to the auth service.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde::Deserialize;

/// Why Synapse's configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SynapseConfigError {
    #[error("cannot read the Synapse configuration {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the Synapse configuration {path} is not valid YAML: {source}")]
    Parse {
        path: PathBuf,
        source: serde_yaml_ng::Error,
    },
    #[error("the Synapse configuration {path} has no `server_name`")]
    NoServerName { path: PathBuf },
    #[error(
        "the Synapse configuration's `database.name` is {0:?}: only `sqlite3` and `psycopg2` exist \
         (or give --synapse-database-uri)"
    )]
    UnknownDatabase(String),
    #[error(
        "the Synapse configuration has no `database.args.database` for SQLite (or give \
         --synapse-database-uri)"
    )]
    NoSqlitePath,
}

/// The parts of `homeserver.yaml` that matter for a migration. Every other key is ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SynapseConfig {
    /// The file it was read from, which relative paths are resolved against.
    #[serde(skip)]
    pub path: PathBuf,
    pub server_name: Option<String>,
    #[serde(default)]
    pub database: DatabaseSection,
    #[serde(default)]
    pub password_config: PasswordConfig,
    #[serde(default)]
    pub oidc_providers: Vec<OidcProvider>,
    /// The older, single-provider form, whose id is `oidc`.
    pub oidc_config: Option<Enabled>,
    pub saml2_config: Option<serde_yaml_ng::Value>,
    pub cas_config: Option<Enabled>,
    pub jwt_config: Option<Enabled>,
    #[serde(default)]
    pub allow_guest_access: bool,
    #[serde(default)]
    pub enable_registration: bool,
    #[serde(default)]
    pub enable_registration_captcha: bool,
    pub enable_3pid_changes: Option<bool>,
    pub login_via_existing_session: Option<Enabled>,
    pub user_consent: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    pub app_service_config_files: Vec<PathBuf>,
    pub pid_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DatabaseSection {
    pub name: Option<String>,
    #[serde(default)]
    pub args: BTreeMap<String, serde_yaml_ng::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PasswordConfig {
    #[serde(default = "yes")]
    pub enabled: serde_yaml_ng::Value,
    pub pepper: Option<String>,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        Self {
            enabled: serde_yaml_ng::Value::Bool(true),
            pepper: None,
        }
    }
}

impl PasswordConfig {
    /// Whether Synapse checks passwords itself (`true` or `only_for_reauth`).
    #[must_use]
    pub fn checks_passwords(&self) -> bool {
        !matches!(self.enabled, serde_yaml_ng::Value::Bool(false))
    }
}

fn yes() -> serde_yaml_ng::Value {
    serde_yaml_ng::Value::Bool(true)
}

/// A section that is on unless `enabled: false` (Synapse's default for those that exist).
#[derive(Debug, Clone, Deserialize)]
pub struct Enabled {
    #[serde(default = "default_true")]
    pub enabled: bool,
}

const fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct OidcProvider {
    pub idp_id: String,
    pub idp_name: Option<String>,
    #[serde(default = "default_true")]
    pub enabled: bool,
}

impl SynapseConfig {
    /// Reads `path`.
    ///
    /// # Errors
    /// When the file cannot be read or parsed, or has no `server_name`.
    pub fn load(path: &Path) -> Result<Self, SynapseConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| SynapseConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config: Self =
            serde_yaml_ng::from_str(&text).map_err(|source| SynapseConfigError::Parse {
                path: path.to_owned(),
                source,
            })?;
        if config.server_name.as_deref().is_none_or(str::is_empty) {
            return Err(SynapseConfigError::NoServerName {
                path: path.to_owned(),
            });
        }
        config.path = path.to_owned();
        Ok(config)
    }

    /// Its `server_name`.
    #[must_use]
    pub fn server_name(&self) -> &str {
        self.server_name.as_deref().unwrap_or_default()
    }

    /// The ids under which Synapse records the external ids of its single sign-on providers
    /// (`user_external_ids.auth_provider`): `oidc-<idp_id>` for `oidc_providers` (Synapse adds the
    /// prefix when the id lacks it), `oidc` for the older `oidc_config`.
    #[must_use]
    pub fn oidc_auth_providers(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .oidc_providers
            .iter()
            .map(|provider| {
                if provider.idp_id.starts_with("oidc-") {
                    provider.idp_id.clone()
                } else {
                    format!("oidc-{}", provider.idp_id)
                }
            })
            .collect();
        if self
            .oidc_config
            .as_ref()
            .is_some_and(|section| section.enabled)
        {
            ids.push("oidc".to_owned());
        }
        ids
    }

    /// The database, as a URI sqlx connects to: `sqlite://PATH` (relative to the configuration
    /// file's folder) or `postgresql://...` from the `psycopg2` arguments.
    ///
    /// # Errors
    /// When the section names another engine, or lacks what its engine needs.
    pub fn database_uri(&self) -> Result<String, SynapseConfigError> {
        let arg = |name: &str| {
            self.database.args.get(name).and_then(|value| match value {
                serde_yaml_ng::Value::String(text) => Some(text.clone()),
                serde_yaml_ng::Value::Number(number) => Some(number.to_string()),
                _ => None,
            })
        };
        match self.database.name.as_deref().unwrap_or("sqlite3") {
            "sqlite3" => {
                let file = arg("database").ok_or(SynapseConfigError::NoSqlitePath)?;
                let file = Path::new(&file);
                let file = if file.is_absolute() {
                    file.to_owned()
                } else {
                    self.path
                        .parent()
                        .unwrap_or_else(|| Path::new("."))
                        .join(file)
                };
                Ok(format!("sqlite://{}", file.display()))
            }
            "psycopg2" | "psycopg" => {
                let mut uri = String::from("postgresql://");
                if let Some(user) = arg("user") {
                    uri.push_str(&percent(&user));
                    if let Some(password) = arg("password") {
                        uri.push(':');
                        uri.push_str(&percent(&password));
                    }
                    uri.push('@');
                }
                match arg("host") {
                    // A socket folder goes in the query, as libpq's `host`.
                    Some(host) if !host.starts_with('/') => uri.push_str(&host),
                    _ => uri.push_str("localhost"),
                }
                if let Some(port) = arg("port") {
                    uri.push(':');
                    uri.push_str(&port);
                }
                uri.push('/');
                uri.push_str(&percent(
                    &arg("dbname")
                        .or_else(|| arg("database"))
                        .unwrap_or_else(|| "synapse".to_owned()),
                ));
                if let Some(host) = arg("host").filter(|host| host.starts_with('/')) {
                    uri.push_str("?host=");
                    uri.push_str(&percent(&host));
                }
                Ok(uri)
            }
            other => Err(SynapseConfigError::UnknownDatabase(other.to_owned())),
        }
    }

    /// Whether the process in Synapse's `pid_file` still runs.
    #[must_use]
    pub fn running_pid(&self) -> Option<u32> {
        let file = self.pid_file.as_ref()?;
        let pid: u32 = std::fs::read_to_string(file).ok()?.trim().parse().ok()?;
        Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
    }
}

/// Percent-encodes what a URI's user, password or path segment cannot hold as is.
fn percent(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> SynapseConfig {
        let mut config: SynapseConfig = serde_yaml_ng::from_str(yaml).expect("valid YAML");
        config.path = PathBuf::from("/etc/synapse/homeserver.yaml");
        config
    }

    #[test]
    fn a_relative_sqlite_database_is_beside_the_file() {
        let config =
            parse("server_name: example.com\ndatabase: {name: sqlite3, args: {database: hs.db}}");
        assert_eq!(
            config.database_uri().expect("a URI"),
            "sqlite:///etc/synapse/hs.db"
        );
    }

    #[test]
    fn psycopg2_arguments_make_a_postgres_uri() {
        let config = parse(
            "server_name: example.com\ndatabase:\n  name: psycopg2\n  args: {user: synapse, password: 'p@ss', dbname: synapse, host: db, port: 5433}",
        );
        assert_eq!(
            config.database_uri().expect("a URI"),
            "postgresql://synapse:p%40ss@db:5433/synapse"
        );
        let socket = parse(
            "server_name: example.com\ndatabase: {name: psycopg2, args: {user: synapse, database: hs, host: /run/postgresql}}",
        );
        assert_eq!(
            socket.database_uri().expect("a URI"),
            "postgresql://synapse@localhost/hs?host=%2Frun%2Fpostgresql"
        );
    }

    #[test]
    fn oidc_providers_are_known_by_synapse_s_prefixed_ids() {
        let config = parse(
            "server_name: example.com\noidc_providers: [{idp_id: pocket}, {idp_id: oidc-google}]\noidc_config: {enabled: true}",
        );
        assert_eq!(
            config.oidc_auth_providers(),
            ["oidc-pocket", "oidc-google", "oidc"]
        );
    }

    #[test]
    fn another_database_engine_is_named_in_the_error() {
        let config = parse("server_name: example.com\ndatabase: {name: mysql}");
        let error = config.database_uri().expect_err("refused");
        assert!(error.to_string().contains("mysql"), "{error}");
    }
}
