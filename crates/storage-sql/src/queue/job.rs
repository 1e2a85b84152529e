//! The jobs, in table `queue_jobs`.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use portcullis_model::{FailureOutcome, Job, JobStatus, queue::DEFAULT_MAX_ATTEMPTS};
use portcullis_storage::{JobRepository, StorageError};
use sqlx::types::Json;
use ulid::Ulid;

use crate::{
    database::Backend,
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime, counter},
};

/// The columns every query returns, in [`JobRow`]'s order.
macro_rules! columns {
    () => {
        "queue_job_id, kind, payload, status, attempts, max_attempts, run_at, locked_by, \
         locked_until, last_error, created_at, finished_at"
    };
}

/// The claim, minus the locking clause that only PostgreSQL has.
///
/// A due job is an available one whose time has come, or a running one whose worker's lease
/// ran out (the worker is presumed dead). The oldest due job is taken.
macro_rules! claim_sql {
    ($locking:literal) => {
        concat!(
            "UPDATE queue_jobs SET status = 'running', locked_by = $1, locked_until = $2, ",
            "attempts = attempts + 1 ",
            "WHERE queue_job_id = (",
            "SELECT queue_job_id FROM queue_jobs ",
            "WHERE (status = 'available' AND run_at <= $3) ",
            "OR (status = 'running' AND locked_until <= $3 AND attempts < max_attempts) ",
            "ORDER BY run_at, queue_job_id LIMIT 1",
            $locking,
            ") RETURNING ",
            columns!()
        )
    };
}

/// On SQLite the transaction already holds the database's write lock (`BEGIN IMMEDIATE`), so
/// no other worker can pick the same row between the sub-select and the update.
const CLAIM_SQLITE: &str = claim_sql!("");

/// On PostgreSQL, `FOR UPDATE SKIP LOCKED` makes concurrent workers pass over a row another
/// worker is claiming instead of queueing behind it; a row claimed and committed meanwhile is
/// re-checked after the lock and no longer matches.
const CLAIM_POSTGRES: &str = claim_sql!(" FOR UPDATE SKIP LOCKED");

/// The furthest lease end we store: far enough to mean "never", within every backend's range.
fn far_future() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 0, 0, 0)
        .single()
        .expect("a fixed, valid calendar date")
}

#[derive(sqlx::FromRow)]
struct JobRow {
    queue_job_id: DbId,
    kind: String,
    payload: Json<serde_json::Value>,
    status: String,
    attempts: i64,
    max_attempts: i64,
    run_at: DbTime,
    locked_by: Option<String>,
    locked_until: Option<DbTime>,
    last_error: Option<String>,
    created_at: DbTime,
    finished_at: Option<DbTime>,
}

impl TryFrom<JobRow> for Job {
    type Error = StorageError;

    fn try_from(row: JobRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.queue_job_id.0,
            kind: row.kind,
            payload: row.payload.0,
            status: row
                .status
                .parse()
                .map_err(|error| StorageError::InvalidData(format!("queue_jobs: {error}")))?,
            attempts: counter("attempts", row.attempts)?,
            max_attempts: counter("max_attempts", row.max_attempts)?,
            run_at: row.run_at.0,
            locked_by: row.locked_by,
            locked_until: row.locked_until.map(|time| time.0),
            last_error: row.last_error,
            created_at: row.created_at.0,
            finished_at: row.finished_at.map(|time| time.0),
        })
    }
}

impl SqlRepository {
    /// The job, which must be running, for a worker's report on it.
    async fn running_job(&mut self, id: Ulid) -> Result<Job, StorageError> {
        let job = JobRepository::find(self, id)
            .await?
            .ok_or_else(|| StorageError::NotFound {
                entity: "job",
                id: id.to_string(),
            })?;
        if job.status == JobStatus::Running {
            Ok(job)
        } else {
            Err(not_running(&job))
        }
    }
}

fn not_running(job: &Job) -> StorageError {
    StorageError::Conflict(format!("job {} is {}, not running", job.id, job.status))
}

#[async_trait]
impl JobRepository for SqlRepository {
    async fn schedule(
        &mut self,
        kind: &str,
        payload: serde_json::Value,
        run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Job, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO queue_jobs (queue_job_id, kind, payload, status, attempts, ",
            "max_attempts, run_at, created_at) ",
            "VALUES ($1, $2, $3, 'available', 0, $4, $5, $6) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: JobRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(kind)
            .bind(Json(&payload))
            .bind(i64::from(DEFAULT_MAX_ATTEMPTS))
            .bind(DbTime(run_at))
            .bind(DbTime(now))
            .fetch_one(conn)
            .await)?;
        self.queued_job = true;
        row.try_into()
    }

    async fn claim(
        &mut self,
        worker_id: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Job>, StorageError> {
        // A job whose lease ran out during its last allowed attempt would otherwise stay
        // "running" for ever: give it up before looking for work.
        const GIVE_UP_SQL: &str = concat!(
            "UPDATE queue_jobs SET status = 'failed', finished_at = $1, locked_by = NULL, ",
            "locked_until = NULL, ",
            "last_error = 'the worker''s lease expired during the last allowed attempt' ",
            "WHERE status = 'running' AND locked_until <= $1 AND attempts >= max_attempts"
        );
        on_backend!(self, |conn| sqlx::query(GIVE_UP_SQL)
            .bind(DbTime(now))
            .execute(conn)
            .await
            .map(drop))?;

        let locked_until = TimeDelta::from_std(lease)
            .ok()
            .and_then(|lease| now.checked_add_signed(lease))
            .map_or_else(far_future, |end| end.min(far_future()));
        let sql = match self.backend() {
            Backend::Sqlite => CLAIM_SQLITE,
            Backend::Postgres => CLAIM_POSTGRES,
        };
        let row: Option<JobRow> = on_backend!(self, |conn| sqlx::query_as(sql)
            .bind(worker_id)
            .bind(DbTime(locked_until))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(Job::try_from).transpose()
    }

    async fn complete(&mut self, id: Ulid, now: DateTime<Utc>) -> Result<Job, StorageError> {
        const SQL: &str = concat!(
            "UPDATE queue_jobs SET status = 'completed', finished_at = $2, locked_by = NULL, ",
            "locked_until = NULL ",
            "WHERE queue_job_id = $1 AND status = 'running' RETURNING ",
            columns!()
        );
        let row: Option<JobRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        match row {
            Some(row) => row.try_into(),
            // Find out why, for a precise error.
            None => Err(not_running(&self.running_job(id).await?)),
        }
    }

    async fn fail(
        &mut self,
        id: Ulid,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<Job, StorageError> {
        // The retry rule is the model's; the update only applies it if the job is still in
        // the attempt we read (another worker may have taken it over after the lease ran
        // out), so reading first is safe without a row lock.
        const SQL: &str = concat!(
            "UPDATE queue_jobs SET status = $3, run_at = $4, finished_at = $5, last_error = $6, ",
            "locked_by = NULL, locked_until = NULL ",
            "WHERE queue_job_id = $1 AND status = 'running' AND attempts = $2 RETURNING ",
            columns!()
        );
        let job = self.running_job(id).await?;
        let (status, run_at, finished_at) = match job.outcome_of_failure(now) {
            FailureOutcome::RetryAt(run_at) => (JobStatus::Available, run_at, None),
            FailureOutcome::GiveUp => (JobStatus::Failed, job.run_at, Some(now)),
        };
        let row: Option<JobRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(i64::from(job.attempts))
            .bind(status.as_str())
            .bind(DbTime(run_at))
            .bind(finished_at.map(DbTime))
            .bind(error)
            .fetch_optional(conn)
            .await)?;
        match row {
            Some(row) => row.try_into(),
            None => Err(StorageError::Conflict(format!(
                "job {id} changed while its failure was being recorded"
            ))),
        }
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<Job>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM queue_jobs WHERE queue_job_id = $1"
        );
        let row: Option<JobRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        row.map(Job::try_from).transpose()
    }

    async fn delete_finished_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        const SQL: &str = "DELETE FROM queue_jobs \
                           WHERE status IN ('completed', 'failed') AND finished_at < $1";
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(DbTime(before))
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))
    }

    async fn count_by_status(&mut self, status: JobStatus) -> Result<u64, StorageError> {
        const SQL: &str = "SELECT COUNT(*) FROM queue_jobs WHERE status = $1";
        let (count,): (i64,) = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(status.as_str())
            .fetch_one(conn)
            .await)?;
        u64::try_from(count)
            .map_err(|_| StorageError::InvalidData(format!("a negative count: {count}")))
    }
}
