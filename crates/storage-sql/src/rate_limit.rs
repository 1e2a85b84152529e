//! The rate limits' buckets, in table `rate_limit_buckets`. No cache reads them, so their
//! statements leave cached reads valid ([`on_backend_keeping_existing!`]).

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_storage::{RateLimitRepository, StorageError};

use crate::{
    repository::{SqlRepository, Transaction, on_backend_keeping_existing},
    types::DbTime,
};

#[async_trait]
impl RateLimitRepository for SqlRepository {
    async fn take(
        &mut self,
        limiter: &str,
        key: &str,
        now: DateTime<Utc>,
        period: TimeDelta,
        burst: u32,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
        let limit = now + period * i32::try_from(burst).unwrap_or(i32::MAX);
        let period_micros = period.num_microseconds().unwrap_or(i64::MAX);
        match self.transaction {
            Transaction::Postgres(_) => {
                take_in_one_statement(self, (limiter, key), now, period_micros, limit).await
            }
            Transaction::Sqlite(_) => {
                take_in_the_unit_of_work(self, (limiter, key), now, period, limit).await
            }
        }
    }

    async fn delete_full_buckets(&mut self, now: DateTime<Utc>) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM rate_limit_buckets WHERE empty_at <= $1";
        on_backend_keeping_existing!(self, |conn| sqlx::query(SQL)
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))
    }
}

/// PostgreSQL: the upsert moves the bucket only while it stays within the limit, and answers
/// the new instant; otherwise the same statement reads the bucket as it stood. The row is
/// locked for this statement only, so a storm of attempts on one account queues for
/// microseconds, not for round trips.
async fn take_in_one_statement(
    repo: &mut SqlRepository,
    (limiter, key): (&str, &str),
    now: DateTime<Utc>,
    period_micros: i64,
    limit: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StorageError> {
    const SQL: &str = "WITH counted AS ( \
             INSERT INTO rate_limit_buckets AS bucket (limiter, bucket_key, empty_at) \
             VALUES ($1, $2, $3 + $4 * INTERVAL '1 microsecond') \
             ON CONFLICT (limiter, bucket_key) DO UPDATE \
             SET empty_at = GREATEST(bucket.empty_at, $3) + $4 * INTERVAL '1 microsecond' \
             WHERE GREATEST(bucket.empty_at, $3) + $4 * INTERVAL '1 microsecond' <= $5 \
             RETURNING empty_at) \
         SELECT true, empty_at FROM counted \
         UNION ALL \
         SELECT false, empty_at FROM rate_limit_buckets \
         WHERE limiter = $1 AND bucket_key = $2 AND NOT EXISTS (SELECT 1 FROM counted)";
    let row: Option<(bool, DbTime)> =
        on_backend_keeping_existing!(repo, |conn| sqlx::query_as(SQL)
            .bind(limiter)
            .bind(key)
            .bind(DbTime(now))
            .bind(period_micros)
            .bind(DbTime(limit))
            .fetch_optional(conn)
            .await)?;
    Ok(match row {
        Some((true, _)) => None,
        Some((false, empty_at)) => Some(empty_at.0),
        // Over the limit, on a bucket another attempt created after this statement's snapshot:
        // refused, as if the bucket were at the limit.
        None => Some(limit),
    })
}

/// SQLite: a unit of work that writes holds the database's write lock from its first
/// statement, so reading the bucket and writing it back cannot interleave with another.
async fn take_in_the_unit_of_work(
    repo: &mut SqlRepository,
    (limiter, key): (&str, &str),
    now: DateTime<Utc>,
    period: TimeDelta,
    limit: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StorageError> {
    const READ: &str = "SELECT empty_at FROM rate_limit_buckets \
                        WHERE limiter = $1 AND bucket_key = $2";
    const WRITE: &str = "INSERT INTO rate_limit_buckets (limiter, bucket_key, empty_at) \
                         VALUES ($1, $2, $3) \
                         ON CONFLICT (limiter, bucket_key) DO UPDATE SET empty_at = $3";
    let stored: Option<DbTime> =
        on_backend_keeping_existing!(repo, |conn| sqlx::query_scalar(READ)
            .bind(limiter)
            .bind(key)
            .fetch_optional(conn)
            .await)?;
    let stored = stored.map(|instant| instant.0);
    let next = stored.map_or(now, |stored| stored.max(now)) + period;
    if next > limit {
        return Ok(Some(stored.unwrap_or(limit)));
    }
    on_backend_keeping_existing!(repo, |conn| sqlx::query(WRITE)
        .bind(limiter)
        .bind(key)
        .bind(DbTime(next))
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(None)
}
