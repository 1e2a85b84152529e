//! Failing fast while PostgreSQL is out of reach.
//!
//! sqlx's pool retries a refused connection until `database.connect_timeout` (30 s by default)
//! has passed. While PostgreSQL is stopped or restarting, every request would then hold its
//! client for that long before being answered 503, and pile up meanwhile. Instead, once a unit
//! of work finds its connection broken (reset, or ended by the server), the next one first
//! opens a fresh connection apart: when that fails too, the pool is marked lost, and new units
//! of work are refused at once, except one at a time that checks the same way whether the
//! database is back, and clears the mark when it is. A broken pooled connection alone (left
//! over from before a restart) is not an outage. A unit of work that waits long for a
//! connection has the same check made for it, so that an outage is noticed even when no pooled
//! connection was there to fail.

use std::{
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use portcullis_storage::StorageError;
use sqlx::{Connection, PgConnection, PgPool};

use crate::error::storage_error;

/// How long a unit of work waits for a connection before the database is checked.
const CHECK_AFTER: Duration = Duration::from_secs(1);

/// How long a check (opening one connection) may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether PostgreSQL answered when last tried; shared by every unit of work of one pool.
#[derive(Debug, Default)]
pub(crate) struct Reachability {
    /// Why the database was last found out of reach; `None` while it answers.
    lost: Mutex<Option<String>>,
    /// Set when a connection broke: the next unit of work checks the database first.
    suspect: AtomicBool,
    /// Set while one unit of work checks the database.
    checking: AtomicBool,
    /// When a check last found the database answering.
    last_answer: Mutex<Option<Instant>>,
}

/// Whether `error` says the database itself is out of reach (as opposed to one statement
/// failing): the connection could not be made or was lost, or the server is shutting down or
/// starting up.
pub(crate) fn is_out_of_reach(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(error) => error
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

impl Reachability {
    /// Notes a failed statement or start of a unit of work: a broken connection makes the
    /// next unit of work check the database first.
    pub(crate) fn observe(&self, error: &sqlx::Error) {
        if is_out_of_reach(error) {
            self.suspect.store(true, Ordering::Release);
        }
    }

    fn mark_lost(&self, why: String) {
        let mut lost = self.lost.lock().unwrap_or_else(PoisonError::into_inner);
        if lost.is_none() {
            tracing::error!(error = %why, "the database is out of reach; refusing requests until it answers again");
        }
        *lost = Some(why);
    }

    fn lost(&self) -> Option<String> {
        self.lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Starts a unit of work on `pool` with `start` (a `BEGIN` or taking a connection).
    pub(crate) async fn start<T>(
        &self,
        pool: &PgPool,
        start: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StorageError> {
        let lost = self.lost();
        if lost.is_some() || self.suspect.load(Ordering::Acquire) {
            // One unit of work at a time tries the database; while it is lost the others are
            // refused at once rather than waiting for it.
            match self.begin_check() {
                Some(_check) => {
                    self.suspect.store(false, Ordering::Release);
                    self.check(pool).await?;
                }
                None => {
                    if let Some(why) = lost {
                        return Err(out_of_reach(&why));
                    }
                }
            }
        }
        let mut start = std::pin::pin!(start);
        let result = match tokio::time::timeout(CHECK_AFTER, &mut start).await {
            Ok(result) => result,
            // Either every connection is busy or the pool is retrying a refused connection:
            // one connection made apart tells which. A database that answers lets the unit of
            // work wait on for its turn.
            Err(_elapsed) => match self.begin_check() {
                Some(_check) if !self.answered_lately() => {
                    self.check(pool).await?;
                    start.await
                }
                _ => start.await,
            },
        };
        result.map_err(|error| {
            self.observe(&error);
            storage_error(error)
        })
    }

    /// Opens one connection outside the pool: clears the mark when it works, sets it when not.
    async fn check(&self, pool: &PgPool) -> Result<(), StorageError> {
        let options = pool.connect_options();
        let outcome =
            match tokio::time::timeout(CHECK_TIMEOUT, PgConnection::connect_with(&options)).await {
                Ok(Ok(connection)) => {
                    let _ = connection.close().await;
                    Ok(())
                }
                Ok(Err(error)) if is_out_of_reach(&error) => Err(error.to_string()),
                // Reached, but refused for another reason (a password that changed, too many
                // connections): the database is there; the pool reports its own error.
                Ok(Err(_)) => Ok(()),
                Err(_elapsed) => Err(format!(
                    "no connection within {} s",
                    CHECK_TIMEOUT.as_secs()
                )),
            };
        match outcome {
            Ok(()) => {
                let was_lost = self
                    .lost
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .is_some();
                if was_lost {
                    tracing::info!("the database answers again");
                }
                *self
                    .last_answer
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
                Ok(())
            }
            Err(why) => {
                self.mark_lost(why.clone());
                Err(out_of_reach(&why))
            }
        }
    }

    fn answered_lately(&self) -> bool {
        self.last_answer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < CHECK_AFTER)
    }

    fn begin_check(&self) -> Option<CheckGuard<'_>> {
        self.checking
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
            .then_some(CheckGuard(&self.checking))
    }
}

/// Lets the next unit of work check when dropped.
struct CheckGuard<'a>(&'a AtomicBool);

impl Drop for CheckGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

fn out_of_reach(why: &str) -> StorageError {
    StorageError::OutOfReach(why.to_owned())
}
