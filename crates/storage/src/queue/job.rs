//! The jobs.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{Job, JobStatus};
use ulid::Ulid;

use crate::StorageError;

/// The job queue, shared by every worker process.
///
/// A job is claimed with a lease: if its worker dies, the lease runs out and another worker
/// takes the job over. Every claim counts as an attempt.
#[async_trait]
pub trait JobRepository: Send {
    /// Queues a job of `kind` to run from `run_at`, with the default number of attempts
    /// ([`DEFAULT_MAX_ATTEMPTS`](portcullis_model::queue::DEFAULT_MAX_ATTEMPTS)).
    async fn schedule(
        &mut self,
        kind: &str,
        payload: serde_json::Value,
        run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Job, StorageError>;

    /// Hands the next due job to `worker_id` for `lease`, or `None` if nothing is due.
    ///
    /// A due job is an available one whose `run_at` has come, or a running one whose lease
    /// has expired. The claim is one conditional update, so concurrent workers never get the
    /// same job. A job whose lease expired during its last allowed attempt is marked failed
    /// instead of being handed out again.
    async fn claim(
        &mut self,
        worker_id: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Job>, StorageError>;

    /// Marks a running job as completed.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] if there is no such job, [`StorageError::Conflict`] if it is
    /// not running.
    async fn complete(&mut self, id: Ulid, now: DateTime<Utc>) -> Result<Job, StorageError>;

    /// Records that the running job's attempt failed with `error`: it becomes available again
    /// after the back-off of [`after_failure`](portcullis_model::queue::after_failure), or
    /// failed if that was its last allowed attempt.
    ///
    /// # Errors
    /// [`StorageError::NotFound`] if there is no such job, [`StorageError::Conflict`] if it is
    /// not running.
    async fn fail(
        &mut self,
        id: Ulid,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<Job, StorageError>;

    /// The job with this id, if any.
    async fn find(&mut self, id: Ulid) -> Result<Option<Job>, StorageError>;

    /// Deletes the jobs completed or failed before `before`; returns how many.
    async fn delete_finished_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;

    /// How many jobs are in `status`.
    async fn count_by_status(&mut self, status: JobStatus) -> Result<u64, StorageError>;
}
