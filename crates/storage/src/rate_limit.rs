//! The rate limits' buckets, when several processes share them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StorageError;

/// The buckets of the rate limits, kept in the database so that every process sharing it
/// counts the same attempts. A bucket is the instant its limiter would be empty again (the
/// "theoretical arrival time" of the generic cell rate algorithm); a bucket whose instant has
/// passed is full, as if absent.
#[async_trait]
pub trait RateLimitRepository: Send {
    /// The instant stored for `key` of `limiter`, if any; on PostgreSQL the row is locked
    /// until the unit of work ends, so that attempts on one bucket take turns.
    async fn bucket(
        &mut self,
        limiter: &str,
        key: &str,
    ) -> Result<Option<DateTime<Utc>>, StorageError>;

    /// Stores `instant` for `key` of `limiter` if the stored instant is still `expected`
    /// (`None`: no bucket yet); `false` when another unit of work changed it first.
    async fn replace_bucket(
        &mut self,
        limiter: &str,
        key: &str,
        expected: Option<DateTime<Utc>>,
        instant: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Forgets the buckets full again at `now`; returns how many.
    async fn delete_full_buckets(&mut self, now: DateTime<Utc>) -> Result<u64, StorageError>;
}
