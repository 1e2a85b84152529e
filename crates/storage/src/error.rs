//! The one error type of the repositories.

/// Why a repository operation failed.
///
/// Backend errors are carried as text, so that no database library's types leak into the traits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The write would break a uniqueness rule or an expected state (a username already taken,
    /// a job that is not running any more...).
    #[error("conflict: {0}")]
    Conflict(String),

    /// The row the operation is about does not exist (any more).
    #[error("{entity} {id} not found")]
    NotFound {
        /// What kind of row, e.g. `user`.
        entity: &'static str,
        /// Its identifier.
        id: String,
    },

    /// A stored value could not be turned back into a domain value (a negative counter, an
    /// unknown status...): the database was changed behind our back.
    #[error("invalid data in the database: {0}")]
    InvalidData(String),

    /// The database failed (an SQL error, an unexpected answer...).
    #[error("database error: {0}")]
    Backend(String),

    /// The database cannot be reached right now: the connection was refused or lost, the
    /// server is shutting down or starting, or no connection came free in time. Worth
    /// retrying shortly; the pool reconnects by itself.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),

    /// The database was found out of reach by an earlier unit of work, which logged it, and
    /// has not answered since: this unit of work was refused without trying. Worth retrying
    /// shortly, like [`StorageError::Unavailable`].
    #[error("the database is out of reach: {0}")]
    OutOfReach(String),
}

impl StorageError {
    /// Whether the failure is the database being out of reach rather than a fault of the
    /// request or of the data ([`StorageError::Unavailable`]).
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::OutOfReach(_))
    }

    /// Whether the pool has logged this failure already (an outage in progress): callers
    /// need not log it again for each request.
    #[must_use]
    pub fn already_logged(&self) -> bool {
        matches!(self, Self::OutOfReach(_))
    }
}
