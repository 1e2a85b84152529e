//! Turns the `database` section into connection options.

use std::path::Path;

use portcullis_config::{
    Problem,
    sections::database::{Backend, DatabaseConfig, SslMode},
};
use portcullis_storage_sql::{ConnectOptions, PoolOptions, PostgresOptions};

/// The file name of the embedded database when the configuration has no `database` section.
pub const DEFAULT_SQLITE_FILE: &str = "mas.db";

/// Where to connect and with which pool settings. `base_dir` is the directory of the first
/// configuration file: relative SQLite paths, and the default `mas.db`, live there.
pub fn options(
    database: Option<&DatabaseConfig>,
    base_dir: &Path,
) -> Result<(ConnectOptions, PoolOptions), Vec<Problem>> {
    let Some(database) = database else {
        return Ok((
            ConnectOptions::Sqlite {
                path: base_dir.join(DEFAULT_SQLITE_FILE),
            },
            PoolOptions::default(),
        ));
    };

    let pool = PoolOptions {
        min_connections: database.min_connections,
        max_connections: database.max_connections.get(),
        connect_timeout: database.connect_timeout(),
        idle_timeout: Some(database.idle_timeout()),
        max_lifetime: Some(database.max_lifetime()),
    };

    match database.backend(base_dir) {
        Backend::Sqlite { path } => Ok((ConnectOptions::Sqlite { path }, pool)),
        Backend::Postgres => {
            let mut problems = Vec::new();
            let mut read =
                |path: &str, source: Option<portcullis_config::SecretSource>| -> Option<Vec<u8>> {
                    let source = source?;
                    match source.read() {
                        Ok(bytes) => Some(bytes),
                        Err(error) => {
                            problems.push(Problem::error(path, format!("cannot read it: {error}")));
                            None
                        }
                    }
                };
            let password = read("database.password_file", database.password()).map(|bytes| {
                String::from_utf8_lossy(&bytes)
                    .trim_end_matches(['\r', '\n'])
                    .to_owned()
            });
            let ssl_ca_pem = read("database.ssl_ca_file", database.ssl_ca());
            let ssl_certificate_pem =
                read("database.ssl_certificate_file", database.ssl_certificate());
            let ssl_key_pem = read("database.ssl_key_file", database.ssl_key());
            if !problems.is_empty() {
                return Err(problems);
            }
            let options = PostgresOptions {
                uri: database.uri.clone(),
                host: database.host.clone(),
                port: database.port.map(|port| port.get()),
                socket: database.socket.clone(),
                username: database.username.clone(),
                password,
                database: database.database.clone(),
                ssl_mode: database.ssl_mode.map(|mode| ssl_mode_name(mode).to_owned()),
                ssl_ca_pem,
                ssl_certificate_pem,
                ssl_key_pem,
            };
            Ok((ConnectOptions::Postgres(options), pool))
        }
    }
}

fn ssl_mode_name(mode: SslMode) -> &'static str {
    match mode {
        SslMode::Disable => "disable",
        SslMode::Allow => "allow",
        SslMode::Prefer => "prefer",
        SslMode::Require => "require",
        SslMode::VerifyCa => "verify-ca",
        SslMode::VerifyFull => "verify-full",
    }
}
