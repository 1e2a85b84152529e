//! The rate limits' buckets, in table `rate_limit_buckets`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_storage::{RateLimitRepository, StorageError};

use crate::{
    repository::{SqlRepository, Transaction, on_backend},
    types::DbTime,
};

#[async_trait]
impl RateLimitRepository for SqlRepository {
    async fn bucket(
        &mut self,
        limiter: &str,
        key: &str,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
        const SQL: &str = "SELECT empty_at FROM rate_limit_buckets \
                           WHERE limiter = $1 AND bucket_key = $2";
        // On PostgreSQL the row stays locked until the unit of work ends: attempts on one
        // bucket take turns instead of failing each other's compare-and-set (a storm of
        // sign-ins for one account would otherwise exhaust its retries and be refused).
        // SQLite's units of work that write already take turns.
        const LOCKING: &str = "SELECT empty_at FROM rate_limit_buckets \
                               WHERE limiter = $1 AND bucket_key = $2 FOR UPDATE";
        let sql = match self.transaction {
            Transaction::Postgres(_) => LOCKING,
            Transaction::Sqlite(_) => SQL,
        };
        let instant: Option<DbTime> = on_backend!(self, |conn| sqlx::query_scalar(sql)
            .bind(limiter)
            .bind(key)
            .fetch_optional(conn)
            .await)?;
        Ok(instant.map(|instant| instant.0))
    }

    async fn replace_bucket(
        &mut self,
        limiter: &str,
        key: &str,
        expected: Option<DateTime<Utc>>,
        instant: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        const INSERT: &str = "INSERT INTO rate_limit_buckets (limiter, bucket_key, empty_at) \
                              VALUES ($1, $2, $3) ON CONFLICT (limiter, bucket_key) DO NOTHING";
        // Under READ COMMITTED, a second writer waits for the first's row lock, then re-checks
        // `empty_at` and finds it changed: one of two racing attempts wins, the other reads
        // again.
        const UPDATE: &str = "UPDATE rate_limit_buckets SET empty_at = $3 \
                              WHERE limiter = $1 AND bucket_key = $2 AND empty_at = $4";
        let written = match expected {
            None => on_backend!(self, |conn| sqlx::query(INSERT)
                .bind(limiter)
                .bind(key)
                .bind(DbTime(instant))
                .execute(conn)
                .await
                .map(|done| done.rows_affected()))?,
            Some(expected) => on_backend!(self, |conn| sqlx::query(UPDATE)
                .bind(limiter)
                .bind(key)
                .bind(DbTime(instant))
                .bind(DbTime(expected))
                .execute(conn)
                .await
                .map(|done| done.rows_affected()))?,
        };
        Ok(written == 1)
    }

    async fn delete_full_buckets(&mut self, now: DateTime<Utc>) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM rate_limit_buckets WHERE empty_at <= $1";
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))
    }
}
