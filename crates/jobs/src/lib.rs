//! The background jobs: what each one does, and how the rest of the service queues it.
//!
//! One module per job kind, with the [`JobHandler`](portcullis_worker::JobHandler) that the worker runs; the payloads, and the
//! `schedule` functions that queue them inside the caller's transaction, are in
//! `portcullis_services::jobs`, beside the rules that ask for them. [`register`] gives a worker
//! every handler.
//!
//! | kind | what it does |
//! | --- | --- |
//! | `provision-user` | creates or updates a user on the homeserver |
//! | `delete-device` | deletes a device on the homeserver once no session uses it |
//! | `deactivate-user` | ends a deactivated user's sessions, then deactivates them on the homeserver |
//! | `reactivate-user` | reactivates a user on the homeserver, then here |
//! | `send-email` | sends an email (verification code, password recovery) |
//! | `expire-inactive-sessions` | ends sessions unused for too long, when configured ([`expire_sessions`]) |
//!
//! [`register`] also gives the worker the recurring jobs of the [`cleanup`] of expired rows,
//! which the leading worker queues on their schedules.
//!
//! Jobs may run more than once (a worker that dies mid-job loses its lease and another takes
//! over), so each is idempotent. A failed attempt is retried with back-off by the worker: while
//! the homeserver or the mail relay is down, nothing is lost.

pub mod cleanup;
pub mod deactivate_user;
pub mod delete_device;
pub mod expire_sessions;
pub mod provision_user;
pub mod reactivate_user;
pub mod send_email;

use std::sync::Arc;

pub use portcullis_email as email;
use portcullis_email::Mailer;
use portcullis_homeserver::HomeserverConnection;
use portcullis_model::{Clock, Job};
use portcullis_storage::RepositoryFactory;
use portcullis_worker::{JobError, Worker};
use serde::de::DeserializeOwned;

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

/// `worker` with the handler of every job kind, and the recurring clean-up jobs.
#[must_use]
pub fn register(worker: Worker, context: &JobContext) -> Worker {
    cleanup::register(worker, context)
        .with_handler(
            portcullis_services::jobs::provision_user::KIND,
            Arc::new(provision_user::Handler(context.clone())),
        )
        .with_handler(
            portcullis_services::jobs::delete_device::KIND,
            Arc::new(delete_device::Handler(context.clone())),
        )
        .with_handler(
            portcullis_services::jobs::deactivate_user::KIND,
            Arc::new(deactivate_user::Handler(context.clone())),
        )
        .with_handler(
            portcullis_services::jobs::reactivate_user::KIND,
            Arc::new(reactivate_user::Handler(context.clone())),
        )
        .with_handler(
            portcullis_services::jobs::send_email::KIND,
            Arc::new(send_email::Handler(context.clone())),
        )
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
