//! Errors of the database as a whole, and how sqlx errors become [`StorageError`]s.

use std::path::PathBuf;

use portcullis_storage::StorageError;

/// Why opening, migrating or inspecting the database failed.
///
/// Messages name the backend and the target (file, or host/port/database and user) but never a
/// password.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The SQLite file could not be opened or created.
    #[error(
        "could not open the SQLite database {}: {}{}",
        path.display(),
        root_cause(cause),
        sqlite_hint(path, cause)
    )]
    SqliteConnect {
        /// The database file.
        path: PathBuf,
        /// What went wrong (said once, in the message, rather than again as a source).
        cause: sqlx::Error,
    },

    /// No connection to PostgreSQL could be established.
    #[error(
        "could not connect to PostgreSQL at {target}: {}{}",
        root_cause(cause),
        postgres_hint(cause)
    )]
    PostgresConnect {
        /// Where we tried to connect, e.g. `postgres@db.example:5432/mas`.
        target: String,
        /// What went wrong (said once, in the message).
        cause: sqlx::Error,
    },

    /// The PostgreSQL connection URI could not be parsed.
    #[error("invalid PostgreSQL connection URI: {0}")]
    InvalidUri(#[source] sqlx::Error),

    /// The PostgreSQL `ssl_mode` is not one of the known modes.
    #[error(
        "invalid PostgreSQL ssl_mode {0:?} (expected disable, allow, prefer, require, verify-ca or verify-full)"
    )]
    InvalidSslMode(String),

    /// Applying the migrations failed.
    #[error("could not apply the {backend} migrations: {source}")]
    Migrate {
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
        /// What went wrong.
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    /// Reading which migrations are applied failed.
    #[error("could not read the {backend} migration status: {source}")]
    MigrationStatus {
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
        /// What went wrong.
        #[source]
        source: sqlx::Error,
    },
}

/// The innermost error of a chain: the cause itself, said once (sqlx's messages repeat
/// their source's).
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// What to do about a SQLite file that cannot be opened, when it can be told.
fn sqlite_hint(path: &std::path::Path, _error: &sqlx::Error) -> String {
    let directory = match path.parent() {
        Some(parent) if parent.as_os_str().is_empty() => std::path::Path::new("."),
        Some(parent) => parent,
        None => return String::new(),
    };
    if !directory.is_dir() {
        return format!(
            " (the directory {} does not exist: create it, or point `database` at another file)",
            directory.display()
        );
    }
    if path.exists() {
        " (check that the file is a SQLite database this user may read and write)".to_owned()
    } else {
        format!(
            " (check that this user may create files in {})",
            directory.display()
        )
    }
}

/// What to do about a failed PostgreSQL connection, by the kind of failure.
fn postgres_hint(error: &sqlx::Error) -> &'static str {
    match error {
        sqlx::Error::Database(database) => match database.code().as_deref() {
            Some("28P01" | "28000") => {
                " (check `database.username` and `database.password`, or the server's pg_hba.conf)"
            }
            Some("3D000") => " (create the database, e.g. `createdb`, or fix `database.database`)",
            _ => "",
        },
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                " (is PostgreSQL running and listening there? check `database.host` and `database.port`)"
            }
            std::io::ErrorKind::NotFound => " (check `database.host`: no such host or socket)",
            _ => " (check `database.host` and `database.port`)",
        },
        sqlx::Error::Tls(_) => " (check `database.ssl_mode` and the certificates)",
        sqlx::Error::PoolTimedOut => {
            " (the server did not answer in time: check host, port and firewall)"
        }
        _ => "",
    }
}

/// SQLite's primary result codes for a failed read or write of the file and for a full disk.
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;

/// Classifies a sqlx error: uniqueness violations become conflicts, undecodable values invalid
/// data, the rest backend failures.
pub(crate) fn storage_error(error: sqlx::Error) -> StorageError {
    match &error {
        sqlx::Error::Database(database_error) if database_error.is_unique_violation() => {
            StorageError::Conflict(database_error.message().to_owned())
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StorageError::InvalidData(error.to_string())
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StorageError::Unavailable(error.to_string()),
        // PostgreSQL's connection exceptions (08xxx) and its operator interventions (57P01
        // shutting down, 57P02 crashed, 57P03 cannot connect now).
        sqlx::Error::Database(database_error)
            if database_error.code().is_some_and(|code| {
                code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
            }) =>
        {
            StorageError::Unavailable(error.to_string())
        }
        // SQLite's disk full (SQLITE_FULL) and failed reads or writes of the file
        // (SQLITE_IOERR_*): nothing was written, and the same request works once the operator
        // has made room.
        sqlx::Error::Database(database_error)
            if database_error
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .and_then(sqlx::error::DatabaseError::code)
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| matches!(code & 0xff, SQLITE_IOERR | SQLITE_FULL)) =>
        {
            StorageError::Unavailable(error.to_string())
        }
        _ => StorageError::Backend(error.to_string()),
    }
}
