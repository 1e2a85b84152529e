//! The rate limits' buckets, when several processes share them.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::StorageError;

/// The buckets of the rate limits, kept in the database so that every process sharing it
/// counts the same attempts. A bucket is the instant its limiter would be empty again (the
/// "theoretical arrival time" of the generic cell rate algorithm); a bucket whose instant has
/// passed is full, as if absent. No cache reads these rows: writing them leaves every cached
/// read valid.
#[async_trait]
pub trait RateLimitRepository: Send {
    /// Counts one attempt at `now` against `key`'s bucket of `limiter`: the bucket's instant
    /// becomes the later of itself and `now`, plus `period`, if that stays within `burst`
    /// periods of `now`. `None` when the attempt is counted; when it is over the limit, nothing
    /// changes and the bucket's instant is returned, from which the caller tells how long to
    /// wait. On PostgreSQL this is one statement: attempts on one bucket, from any process,
    /// take turns on its row for that statement only.
    async fn take(
        &mut self,
        limiter: &str,
        key: &str,
        now: DateTime<Utc>,
        period: TimeDelta,
        burst: u32,
    ) -> Result<Option<DateTime<Utc>>, StorageError>;

    /// Forgets the buckets full again at `now`; returns how many.
    async fn delete_full_buckets(&mut self, now: DateTime<Utc>) -> Result<u64, StorageError>;
}
