//! Logging requests refused because the database is unavailable, without flooding the log:
//! while PostgreSQL is down or a SQLite disk is full, every request fails the same way.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

/// The second (since the epoch) of the last refusal logged at `error` level.
static LAST_LOGGED: AtomicU64 = AtomicU64::new(0);

/// Logs a request of `place` answered 503 because of `error`: at `error` level at most once a
/// second, unless the database pool has reported the outage already (`already_logged`); the
/// others at `debug` level.
pub(crate) fn log(error: &dyn std::fmt::Display, already_logged: bool, place: &str) {
    let second = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    if !already_logged && LAST_LOGGED.swap(second, Ordering::Relaxed) != second {
        tracing::error!(%error, place, "the database is unavailable: requests get 503 (logged at most once a second)");
    } else {
        tracing::debug!(%error, place, "refused: the database is unavailable");
    }
}
