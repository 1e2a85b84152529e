//! The background jobs: what each one does, and how the rest of the service queues it.
//!
//! One module per job kind. Each has the job's payload type with a `schedule` function, which
//! queues it inside the caller's transaction (so the job exists if and only if the change that
//! needs it is committed), and the [`JobHandler`] that the worker runs. [`register`] gives a
//! worker every handler.
//!
//! | kind | what it does |
//! | --- | --- |
//! | [`provision_user::KIND`] | creates or updates a user on the homeserver |
//! | [`delete_device::KIND`] | deletes a device on the homeserver once no session uses it |
//! | [`deactivate_user::KIND`] | ends a deactivated user's sessions, then deactivates them on the homeserver |
//! | [`reactivate_user::KIND`] | reactivates a user on the homeserver, then here |
//! | [`send_email::KIND`] | sends an email (verification code, password recovery) |
//!
//! [`register`] also gives the worker the hourly [`cleanup`] of expired rows.
//!
//! Jobs may run more than once (a worker that dies mid-job loses its lease and another takes
//! over), so each is idempotent. A failed attempt is retried with back-off by the worker: while
//! the homeserver or the mail relay is down, nothing is lost.

pub mod cleanup;
pub mod deactivate_user;
pub mod delete_device;
pub mod provision_user;
pub mod reactivate_user;
pub mod send_email;

use std::sync::Arc;

use chrono::{DateTime, Utc};
pub use portcullis_email as email;
use portcullis_email::Mailer;
use portcullis_homeserver::HomeserverConnection;
use portcullis_model::{Clock, Job};
use portcullis_storage::{Repository, RepositoryFactory, StorageError};
use portcullis_worker::{JobError, Worker};
use serde::{Serialize, de::DeserializeOwned};

/// What the jobs work with.
#[derive(Clone)]
pub struct JobContext {
    /// The database.
    pub repositories: Arc<dyn RepositoryFactory>,
    /// The homeserver this service authenticates for.
    pub homeserver: Arc<dyn HomeserverConnection>,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// Sends emails; [`Mailer::memory`] in tests.
    pub mailer: Mailer,
}

/// `worker` with the handler of every job kind.
#[must_use]
pub fn register(worker: Worker, context: &JobContext) -> Worker {
    worker
        .with_handler(
            provision_user::KIND,
            Arc::new(provision_user::Handler(context.clone())),
        )
        .with_handler(
            delete_device::KIND,
            Arc::new(delete_device::Handler(context.clone())),
        )
        .with_handler(
            deactivate_user::KIND,
            Arc::new(deactivate_user::Handler(context.clone())),
        )
        .with_handler(
            reactivate_user::KIND,
            Arc::new(reactivate_user::Handler(context.clone())),
        )
        .with_handler(
            send_email::KIND,
            Arc::new(send_email::Handler(context.clone())),
        )
        .with_periodic_task(
            "cleanup",
            cleanup::EVERY,
            Arc::new(cleanup::Cleanup(context.clone())),
        )
}

/// Queues a job of `kind` with `payload`, to run at once.
async fn schedule<T: Serialize + Sync>(
    repo: &mut dyn Repository,
    kind: &str,
    payload: &T,
    now: DateTime<Utc>,
) -> Result<Job, StorageError> {
    let payload = serde_json::to_value(payload).map_err(|error| {
        StorageError::InvalidData(format!("a {kind} payload cannot be serialised: {error}"))
    })?;
    repo.jobs().schedule(kind, payload, now, now).await
}

/// The payload of `job`, as the job kind's type.
fn payload<T: DeserializeOwned>(job: &Job) -> Result<T, JobError> {
    serde_json::from_value(job.payload.clone()).map_err(|error| {
        format!(
            "the payload of job {} ({}) is not what this version expects: {error}",
            job.id, job.kind
        )
        .into()
    })
}
