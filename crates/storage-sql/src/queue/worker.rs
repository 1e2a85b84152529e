//! The workers, in `queue_workers`; their leader, in the one row of `queue_leader`; the
//! recurring jobs' last slots, in `queue_schedules`.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_storage::{QueueWorkerRepository, StorageError};

use crate::{
    repository::{SqlRepository, on_backend},
    types::DbTime,
};

#[async_trait]
impl QueueWorkerRepository for SqlRepository {
    async fn register(&mut self, worker_id: &str, now: DateTime<Utc>) -> Result<(), StorageError> {
        const SQL: &str = "INSERT INTO queue_workers (worker_id, registered_at, last_seen_at) \
                           VALUES ($1, $2, $2) \
                           ON CONFLICT (worker_id) DO UPDATE \
                           SET last_seen_at = excluded.last_seen_at, stopped_at = NULL";
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(worker_id)
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(drop))
    }

    async fn heartbeat(
        &mut self,
        worker_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        const SQL: &str = "UPDATE queue_workers SET last_seen_at = $2 \
                           WHERE worker_id = $1 AND stopped_at IS NULL";
        let updated = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(worker_id)
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(updated == 1)
    }

    async fn stop(&mut self, worker_id: &str, now: DateTime<Utc>) -> Result<(), StorageError> {
        const STOP: &str = "UPDATE queue_workers SET stopped_at = $2 \
                            WHERE worker_id = $1 AND stopped_at IS NULL";
        const ABDICATE: &str = "DELETE FROM queue_leader WHERE worker_id = $1";
        on_backend!(self, |conn| sqlx::query(STOP)
            .bind(worker_id)
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(drop))?;
        on_backend!(self, |conn| sqlx::query(ABDICATE)
            .bind(worker_id)
            .execute(conn)
            .await
            .map(drop))
    }

    async fn try_lead(
        &mut self,
        worker_id: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StorageError> {
        // One statement: the row is taken when free, expired or ours, and left alone otherwise;
        // of two workers racing for an expired lease, the second re-checks the condition after
        // the first's update and finds it no longer holds.
        const SQL: &str = "INSERT INTO queue_leader (singleton, worker_id, expires_at) \
                           VALUES (1, $1, $3) \
                           ON CONFLICT (singleton) DO UPDATE \
                           SET worker_id = excluded.worker_id, expires_at = excluded.expires_at \
                           WHERE queue_leader.worker_id = excluded.worker_id \
                              OR queue_leader.expires_at <= $2 \
                           RETURNING worker_id";
        let expires_at = TimeDelta::from_std(lease)
            .ok()
            .and_then(|lease| now.checked_add_signed(lease))
            .unwrap_or(now);
        let leader: Option<String> = on_backend!(self, |conn| sqlx::query_scalar(SQL)
            .bind(worker_id)
            .bind(DbTime(now))
            .bind(DbTime(expires_at))
            .fetch_optional(conn)
            .await)?;
        Ok(leader.as_deref() == Some(worker_id))
    }

    async fn stop_silent(
        &mut self,
        silent_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        const RELEASE_JOBS: &str = "UPDATE queue_jobs \
            SET status = 'available', locked_by = NULL, locked_until = NULL, run_at = $2 \
            WHERE status = 'running' AND attempts < max_attempts AND locked_by IN ( \
                SELECT worker_id FROM queue_workers \
                WHERE stopped_at IS NULL AND last_seen_at < $1)";
        const STOP_WORKERS: &str = "UPDATE queue_workers SET stopped_at = $2 \
                                    WHERE stopped_at IS NULL AND last_seen_at < $1";
        on_backend!(self, |conn| sqlx::query(RELEASE_JOBS)
            .bind(DbTime(silent_since))
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(drop))?;
        on_backend!(self, |conn| sqlx::query(STOP_WORKERS)
            .bind(DbTime(silent_since))
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))
    }

    async fn delete_stopped_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM queue_workers WHERE stopped_at < $1";
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbTime(before))
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))
    }

    async fn last_scheduled(&mut self, name: &str) -> Result<Option<DateTime<Utc>>, StorageError> {
        const SQL: &str = "SELECT last_scheduled_at FROM queue_schedules WHERE schedule_name = $1";
        let slot: Option<DbTime> = on_backend!(self, |conn| sqlx::query_scalar(SQL)
            .bind(name)
            .fetch_optional(conn)
            .await)?;
        Ok(slot.map(|slot| slot.0))
    }

    async fn claim_schedule(
        &mut self,
        name: &str,
        slot: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        const SQL: &str = "INSERT INTO queue_schedules (schedule_name, last_scheduled_at) \
                           VALUES ($1, $2) \
                           ON CONFLICT (schedule_name) DO UPDATE \
                           SET last_scheduled_at = excluded.last_scheduled_at \
                           WHERE queue_schedules.last_scheduled_at < excluded.last_scheduled_at \
                           RETURNING schedule_name";
        let claimed: Option<String> = on_backend!(self, |conn| sqlx::query_scalar(SQL)
            .bind(name)
            .bind(DbTime(slot))
            .fetch_optional(conn)
            .await)?;
        Ok(claimed.is_some())
    }
}
