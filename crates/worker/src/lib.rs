//! The background worker: takes jobs from the queue table and runs them.
//!
//! Features add their jobs by registering a [`JobHandler`] for a job kind (`provision-user`,
//! `send-email`...). The queue itself lives in storage: claiming a job is one conditional update,
//! so any number of workers, in any number of processes, can share one PostgreSQL database and a
//! job still runs once at a time. A failed attempt is retried with an exponential back-off (the
//! rule is [`portcullis_model::queue::after_failure`]).
//!
//! Workers register in the database and send a heartbeat every [`HEARTBEAT`]; one of them, the
//! leader, holds a lease it renews at each look at the queue. The leader declares lost the
//! workers silent for [`LOST_AFTER`], which gives their running jobs to the others at once (a
//! job's own lease would otherwise keep it for five minutes), and queues the recurring jobs
//! ([`Worker::with_recurring`]) at the slots of their schedules: each slot is claimed in the
//! database, so a recurring job runs once per deployment, whatever the number of workers.
//!
//! A worker runs up to [`MAX_CONCURRENT_JOBS`] jobs at once, as MAS does: a slow homeserver
//! then delays ten provisioning jobs at a time, not one.
//!
//! An idle worker waits for a job to be queued ([`RepositoryFactory::wait_for_jobs`]: at once
//! in its own process, through `LISTEN/NOTIFY` from other processes on PostgreSQL), and looks
//! at the queue every poll interval anyway.

use std::{
    collections::HashMap,
    fmt,
    str::FromStr as _,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
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

/// How many jobs one worker runs at once (as MAS).
pub const MAX_CONCURRENT_JOBS: usize = 10;

/// How often a worker tells the others it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

/// How long a worker may stay silent before the leader declares it lost.
pub const LOST_AFTER: Duration = Duration::from_secs(120);

/// How long the leadership lasts unless renewed; the leader renews it at each look at the
/// queue, so another worker takes over within this time after the leader dies.
pub const LEADER_LEASE: Duration = Duration::from_secs(15);

/// A job the leader queues at each slot of its schedule.
struct Recurring {
    kind: String,
    schedule: cron::Schedule,
}

/// What one round of upkeep did ([`Worker::upkeep`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upkeep {
    /// Whether this worker leads.
    pub leads: bool,
    /// Workers declared lost.
    pub lost_workers: u64,
    /// The recurring jobs queued, by kind.
    pub queued: Vec<String>,
}

/// The worker's own bookkeeping between rounds of upkeep.
#[derive(Debug, Default)]
struct Presence {
    /// When the last heartbeat was sent; `None` until the worker registered.
    last_heartbeat: Option<DateTime<Utc>>,
    leads: bool,
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
    recurring: Vec<Recurring>,
    presence: Mutex<Presence>,
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
            recurring: Vec::new(),
            presence: Mutex::default(),
        }
    }

    /// Has the leader queue a job of `kind` (with an empty payload) at each slot of
    /// `schedule`, a cron expression with seconds (`sec min hour day month weekday`, as MAS's
    /// schedules). A worker that becomes the leader queues the latest slot of the past day it
    /// finds not queued yet, so a recurring job also runs soon after the first start.
    ///
    /// # Panics
    /// When `schedule` is not a cron expression: schedules are constants of the program.
    #[must_use]
    pub fn with_recurring(mut self, kind: &str, schedule: &str) -> Self {
        let schedule = cron::Schedule::from_str(schedule)
            .unwrap_or_else(|error| panic!("`{schedule}` is not a cron expression: {error}"));
        self.recurring.push(Recurring {
            kind: kind.to_owned(),
            schedule,
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
        match self.claim().await? {
            Some(job) => self.execute(job).await.map(Some),
            None => Ok(None),
        }
    }

    /// Takes one due job, if any.
    async fn claim(&self) -> Result<Option<Job>, StorageError> {
        let mut repository = self.repositories.transaction().await?;
        let claimed = repository
            .jobs()
            .claim(&self.worker_id, self.clock.now(), self.lease)
            .await?;
        repository.commit().await?;
        Ok(claimed)
    }

    /// Runs a claimed job and records the outcome.
    async fn execute(&self, job: Job) -> Result<Ran, StorageError> {
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

        Ok(Ran {
            id: after.id,
            kind: after.kind,
            status: after.status,
        })
    }

    /// One round of upkeep: registers or sends a heartbeat when due, takes or renews the
    /// leadership, and, as the leader, declares silent workers lost and queues the recurring
    /// jobs whose slot has come.
    ///
    /// # Errors
    /// When the database cannot be read or written; nothing of the round is kept then.
    pub async fn upkeep(&self) -> Result<Upkeep, StorageError> {
        let now = self.clock.now();
        let heartbeat_due = {
            let presence = self.presence.lock().unwrap_or_else(PoisonError::into_inner);
            presence
                .last_heartbeat
                .is_none_or(|last| now - last >= delta(HEARTBEAT))
        };
        let mut repository = self.repositories.transaction().await?;
        if heartbeat_due {
            let workers = repository.queue_workers();
            if !workers.heartbeat(&self.worker_id, now).await? {
                workers.register(&self.worker_id, now).await?;
            }
        }
        let leads = repository
            .queue_workers()
            .try_lead(&self.worker_id, now, LEADER_LEASE)
            .await?;
        let mut upkeep = Upkeep {
            leads,
            ..Upkeep::default()
        };
        if leads {
            upkeep.lost_workers = repository
                .queue_workers()
                .stop_silent(now - delta(LOST_AFTER), now)
                .await?;
            for recurring in &self.recurring {
                let last = repository
                    .queue_workers()
                    .last_scheduled(&recurring.kind)
                    .await?;
                let Some(slot) = due_slot(&recurring.schedule, last, now) else {
                    continue;
                };
                if repository
                    .queue_workers()
                    .claim_schedule(&recurring.kind, slot)
                    .await?
                {
                    repository
                        .jobs()
                        .schedule(&recurring.kind, serde_json::json!({}), now, now)
                        .await?;
                    upkeep.queued.push(recurring.kind.clone());
                }
            }
        }
        repository.commit().await?;

        let mut presence = self.presence.lock().unwrap_or_else(PoisonError::into_inner);
        if heartbeat_due {
            presence.last_heartbeat = Some(now);
        }
        if leads != presence.leads {
            if leads {
                tracing::info!(worker = %self.worker_id, "this worker leads: it queues the recurring jobs");
            } else {
                tracing::info!(worker = %self.worker_id, "another worker leads now");
            }
            presence.leads = leads;
        }
        if upkeep.lost_workers > 0 {
            tracing::warn!(
                workers = upkeep.lost_workers,
                "workers silent for two minutes declared lost; their jobs go to the others"
            );
        }
        for kind in &upkeep.queued {
            tracing::debug!(job.kind = %kind, "recurring job queued");
        }
        Ok(upkeep)
    }

    /// Runs jobs until `shutdown` is cancelled. The jobs in progress at that moment are
    /// finished first, so nothing is left half-done; the worker then records that it stopped,
    /// giving up the leadership if it held it.
    pub async fn run(self, shutdown: CancellationToken) {
        let this = Arc::new(self);
        this.serve(&shutdown).await;
    }

    async fn serve(self: &Arc<Self>, shutdown: &CancellationToken) {
        tracing::info!(worker = %self.worker_id, "background worker started");
        while !shutdown.is_cancelled() {
            if let Err(error) = self.upkeep().await {
                tracing::error!(%error, "cannot keep the worker registered");
            }
            // Everything due, then wait: each job may have queued others.
            self.run_due(shutdown).await;
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.repositories.wait_for_jobs(self.poll_interval) => {}
            }
        }
        if let Err(error) = self.stop().await {
            tracing::warn!(%error, "cannot record that the worker stopped; the others will notice");
        }
        tracing::info!(worker = %self.worker_id, "background worker stopped");
    }

    /// Runs the jobs that are due, up to [`MAX_CONCURRENT_JOBS`] at once, until none is left
    /// or `shutdown` is cancelled (the jobs started are finished). Each job is a task of its
    /// own, so that a job holding the database (SQLite's write lock, say) goes on while the
    /// next one is claimed.
    async fn run_due(self: &Arc<Self>, shutdown: &CancellationToken) {
        let mut running = tokio::task::JoinSet::new();
        let mut look = true;
        loop {
            while look && running.len() < MAX_CONCURRENT_JOBS && !shutdown.is_cancelled() {
                match self.claim().await {
                    Ok(Some(job)) => {
                        let worker = Arc::clone(self);
                        running.spawn(async move { worker.execute(job).await });
                    }
                    Ok(None) => look = false,
                    Err(error) => {
                        tracing::error!(%error, "cannot read the job queue");
                        look = false;
                    }
                }
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            match done {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::error!(%error, "cannot record the outcome of a job"),
                Err(error) => tracing::error!(%error, "a job's task failed"),
            }
            // The job may have queued others, or made room for one.
            look = true;
        }
    }

    async fn stop(&self) -> Result<(), StorageError> {
        let mut repository = self.repositories.transaction().await?;
        repository
            .queue_workers()
            .stop(&self.worker_id, self.clock.now())
            .await?;
        repository.commit().await
    }
}

/// A [`Duration`] as a [`TimeDelta`]; the constants here are all small.
fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

/// The latest slot of `schedule` at or before `now` that comes after `last`: the slot to queue
/// now, if any. Without a `last`, slots of the past day count.
fn due_slot(
    schedule: &cron::Schedule,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let from = last.unwrap_or(now - TimeDelta::days(1));
    schedule.after(&from).take_while(|slot| *slot <= now).last()
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
