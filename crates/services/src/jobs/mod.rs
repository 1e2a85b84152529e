//! The jobs a rule asks for: one module per job kind, with its payload and the `schedule`
//! function that queues it inside the caller's unit of work, so the job exists if and only if
//! the change that needs it is committed. The `portcullis-jobs` crate runs them.

pub mod deactivate_user;
pub mod delete_device;
pub mod provision_user;
pub mod reactivate_user;
pub mod send_email;

use chrono::{DateTime, Utc};
use portcullis_model::Job;
use portcullis_storage::{Repository, StorageError};
use serde::Serialize;

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
