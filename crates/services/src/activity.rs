//! When and from where each session was last active, recorded off the hot path.
//!
//! Every use of a session (an introspected token, a refresh, a page of the account) calls
//! [`ActivityTracker::record`], which only updates a map in memory: no request waits on a
//! write. The server flushes the map every few seconds, in one unit of work, and once more when
//! it stops; what a crash loses is a few seconds of "last active" times, never anything else.
//!
//! Per session the map keeps the latest instant, and the latest known address: a token that
//! the homeserver introspects comes without the client's address, which must not erase the
//! one a refresh or a page view gave.

use std::{collections::HashMap, net::IpAddr, sync::Mutex};

use chrono::{DateTime, Utc};
use portcullis_storage::{RepositoryFactory, SessionActivity, SessionRef, StorageError};

/// The activity seen since the last flush.
#[derive(Debug, Default)]
pub struct ActivityTracker {
    pending: Mutex<HashMap<SessionRef, Seen>>,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    at: DateTime<Utc>,
    ip: Option<IpAddr>,
}

impl Seen {
    fn merge(&mut self, at: DateTime<Utc>, ip: Option<IpAddr>) {
        if at >= self.at {
            self.at = at;
            self.ip = ip.or(self.ip);
        } else if self.ip.is_none() {
            self.ip = ip;
        }
    }
}

impl ActivityTracker {
    /// An empty tracker.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes that `session` was used at `at`, from `ip` when the client's address is known.
    pub fn record(&self, session: SessionRef, at: DateTime<Utc>, ip: Option<IpAddr>) {
        let mut pending = self.lock();
        pending
            .entry(session)
            .and_modify(|seen| seen.merge(at, ip))
            .or_insert(Seen { at, ip });
    }

    /// How many sessions have activity waiting to be written.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    /// Writes what was seen since the last flush, in one unit of work; returns how many
    /// sessions it covered. On failure the activity is kept for the next flush (merged with
    /// what arrived meanwhile).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn flush(&self, repositories: &dyn RepositoryFactory) -> Result<usize, StorageError> {
        let taken = std::mem::take(&mut *self.lock());
        if taken.is_empty() {
            return Ok(0);
        }
        let mut batch: Vec<SessionActivity> = taken
            .iter()
            .map(|(session, seen)| SessionActivity {
                session: *session,
                at: seen.at,
                ip: seen.ip,
            })
            .collect();
        // A stable order, so that two processes flushing at once lock rows in the same order.
        batch.sort_by_key(|activity| activity.session);
        let written = async {
            let mut repo = repositories.transaction().await?;
            repo.session_activity().record(&batch).await?;
            repo.commit().await
        }
        .await;
        if let Err(error) = written {
            for (session, seen) in taken {
                self.record(session, seen.at, seen.ip);
            }
            return Err(error);
        }
        Ok(batch.len())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionRef, Seen>> {
        // The map holds no invariant a panicking holder could break halfway.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone as _};
    use ulid::Ulid;

    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
            .single()
            .expect("one instant")
            + TimeDelta::minutes(minutes)
    }

    fn seen(tracker: &ActivityTracker, session: SessionRef) -> (DateTime<Utc>, Option<IpAddr>) {
        let pending = tracker.lock();
        let seen = pending[&session];
        (seen.at, seen.ip)
    }

    #[test]
    fn many_uses_of_a_session_are_one_entry_with_the_latest_time() {
        let tracker = ActivityTracker::new();
        let session = SessionRef::OAuth(Ulid::from_parts(1, 1));
        for minute in [3, 1, 7, 2] {
            tracker.record(session, at(minute), None);
        }
        assert_eq!(tracker.pending(), 1);
        assert_eq!(seen(&tracker, session), (at(7), None));
    }

    #[test]
    fn a_use_without_an_address_keeps_the_known_one() {
        let tracker = ActivityTracker::new();
        let session = SessionRef::Compat(Ulid::from_parts(1, 2));
        let ip: IpAddr = "192.0.2.1".parse().expect("valid");
        tracker.record(session, at(1), Some(ip));
        tracker.record(session, at(2), None);
        assert_eq!(seen(&tracker, session), (at(2), Some(ip)));
        let newer: IpAddr = "192.0.2.2".parse().expect("valid");
        tracker.record(session, at(3), Some(newer));
        assert_eq!(seen(&tracker, session), (at(3), Some(newer)));
        // An older use with another address does not replace the newer one.
        tracker.record(session, at(0), Some(ip));
        assert_eq!(seen(&tracker, session), (at(3), Some(newer)));
    }
}
