//! The background worker: takes jobs from the queue table and runs them.
//!
//! Features add their jobs by registering a [`JobHandler`] for a job kind (`provision-user`,
//! `send-email`...). The queue itself lives in storage: claiming a job is one conditional update,
//! so any number of workers, in any number of processes, can share one PostgreSQL database and a
//! job still runs once at a time. A failed attempt is retried with an exponential back-off (the
//! rule is [`portcullis_model::queue::after_failure`]); a worker that dies mid-job loses its lease
//! and another worker takes the job over.
//!
//! A worker also runs [`PeriodicTask`]s (housekeeping such as deleting expired rows): each when
//! the worker starts, then every time its interval has passed. Several workers each run them;
//! periodic tasks are written so that running them twice does no harm.

use std::{collections::HashMap, fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use portcullis_model::{Clock, Job, JobStatus};
use portcullis_storage::{RepositoryFactory, StorageError};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

mod metrics;

/// Why a job's attempt failed; stored on the job as its `last_error`.
pub type JobError = Box<dyn std::error::Error + Send + Sync>;

/// Runs the jobs of one kind.
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// Does the work of `job`. An error makes the attempt count as failed.
    async fn run(&self, job: &Job) -> Result<(), JobError>;
}

/// Work a worker does on a timer rather than from the queue.
#[async_trait]
pub trait PeriodicTask: Send + Sync {
    /// Does the work once. An error is logged; the task runs again at its next turn.
    async fn run(&self) -> Result<(), JobError>;
}

struct Periodic {
    name: String,
    every: Duration,
    task: Arc<dyn PeriodicTask>,
}

/// What happened to the job a worker took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub id: ulid::Ulid,
    pub kind: String,
    /// The job's status after the attempt: completed, available again (to be retried) or failed.
    pub status: JobStatus,
}

/// A worker, with the handlers it knows.
pub struct Worker {
    repositories: Arc<dyn RepositoryFactory>,
    clock: Arc<dyn Clock>,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    worker_id: String,
    poll_interval: Duration,
    lease: Duration,
    periodic: Vec<Periodic>,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("worker_id", &self.worker_id)
            .field("kinds", &self.handlers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker with no handlers yet, identified in the queue by a fresh id.
    #[must_use]
    pub fn new(repositories: Arc<dyn RepositoryFactory>, clock: Arc<dyn Clock>) -> Self {
        Self {
            repositories,
            clock,
            handlers: HashMap::new(),
            worker_id: format!("worker-{}", ulid::Ulid::new()),
            poll_interval: Duration::from_secs(1),
            // Long enough for any job we run (they are short HTTP calls and emails); a job
            // outliving it may run twice, so jobs are written to be idempotent.
            lease: Duration::from_secs(300),
            periodic: Vec::new(),
        }
    }

    /// Runs `task` when the worker starts, then every `every`; `name` is for the logs.
    #[must_use]
    pub fn with_periodic_task(
        mut self,
        name: &str,
        every: Duration,
        task: Arc<dyn PeriodicTask>,
    ) -> Self {
        self.periodic.push(Periodic {
            name: name.to_owned(),
            every,
            task,
        });
        self
    }

    /// Registers the handler for jobs of `kind`.
    #[must_use]
    pub fn with_handler(mut self, kind: &str, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(kind.to_owned(), handler);
        self
    }

    /// How long to wait before looking again when the queue is empty.
    #[must_use]
    pub fn with_poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }

    /// The id this worker claims jobs under.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.worker_id
    }

    /// Takes one due job, runs it and records the outcome; `None` when nothing is due.
    ///
    /// # Errors
    /// When the queue cannot be read or written.
    pub async fn run_once(&self) -> Result<Option<Ran>, StorageError> {
        let mut repository = self.repositories.transaction().await?;
        let claimed = repository
            .jobs()
            .claim(&self.worker_id, self.clock.now(), self.lease)
            .await?;
        repository.commit().await?;
        let Some(job) = claimed else {
            return Ok(None);
        };

        // The job runs outside any transaction: it may call other services for a while, and
        // a transaction held open that long would block SQLite writers.
        let span = tracing::info_span!(
            "job",
            otel.name = format!("job {}", job.kind),
            otel.status_code = tracing::field::Empty,
            job.id = %job.id,
            job.kind = %job.kind,
            job.attempt = job.attempts,
            job.result = tracing::field::Empty,
            db.duration_ms = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let run = async {
            match self.handlers.get(&job.kind) {
                Some(handler) => handler.run(&job).await,
                None => {
                    Err(format!("no handler for job kind `{}` in this worker", job.kind).into())
                }
            }
        };
        let (result, database) =
            portcullis_storage_sql::timing::measured(run.instrument(span.clone())).await;
        let outcome = if result.is_ok() { "success" } else { "failure" };
        span.record("job.result", outcome);
        span.record(
            "db.duration_ms",
            u64::try_from(database.as_millis()).unwrap_or(u64::MAX),
        );
        if result.is_err() {
            span.record("otel.status_code", "ERROR");
        }
        metrics::job_done(&job.kind, outcome, started.elapsed());

        let mut repository = self.repositories.transaction().await?;
        let after = match result {
            Ok(()) => {
                tracing::info!(job.id = %job.id, job.kind = %job.kind, "job completed");
                repository.jobs().complete(job.id, self.clock.now()).await?
            }
            Err(error) => {
                let message = error_chain(&*error);
                let after = repository
                    .jobs()
                    .fail(job.id, &message, self.clock.now())
                    .await?;
                tracing::warn!(
                    job.id = %job.id,
                    job.kind = %job.kind,
                    attempt = job.attempts,
                    status = %after.status,
                    error = %message,
                    "job attempt failed"
                );
                after
            }
        };
        repository.commit().await?;

        Ok(Some(Ran {
            id: after.id,
            kind: after.kind,
            status: after.status,
        }))
    }

    /// Runs jobs until `shutdown` is cancelled. The job in progress at that moment is finished
    /// first, so nothing is left half-done.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(worker = %self.worker_id, "background worker started");
        let mut next_runs = vec![tokio::time::Instant::now(); self.periodic.len()];
        while !shutdown.is_cancelled() {
            for (periodic, next_run) in self.periodic.iter().zip(&mut next_runs) {
                let now = tokio::time::Instant::now();
                if now < *next_run {
                    continue;
                }
                *next_run = now + periodic.every;
                if let Err(error) = periodic.task.run().await {
                    let error = error_chain(&*error);
                    tracing::warn!(task = %periodic.name, %error, "periodic task failed");
                }
            }
            match self.run_once().await {
                // Something was due: look again at once, the queue may hold more.
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(error) => tracing::error!(%error, "cannot read the job queue"),
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(self.poll_interval) => {}
            }
        }
        tracing::info!(worker = %self.worker_id, "background worker stopped");
    }
}

/// An error and its causes on one line, `outer: cause: root cause`: what a job's `last_error`
/// and the logs show (a top-level error alone often says little, e.g. "error sending request").
#[must_use]
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod error_chain_tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("could not reach the homeserver")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn the_causes_follow_the_error_on_one_line() {
        let error = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        ));
        assert_eq!(
            error_chain(&error),
            "could not reach the homeserver: connection refused"
        );
    }
}
