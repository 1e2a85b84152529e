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
    #[error("could not open the SQLite database {}: {source}", path.display())]
    SqliteConnect {
        /// The database file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: sqlx::Error,
    },

    /// No connection to PostgreSQL could be established.
    #[error("could not connect to PostgreSQL at {target}: {source}")]
    PostgresConnect {
        /// Where we tried to connect, e.g. `postgres@db.example:5432/mas`.
        target: String,
        /// What went wrong.
        #[source]
        source: sqlx::Error,
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
        _ => StorageError::Backend(error.to_string()),
    }
}
