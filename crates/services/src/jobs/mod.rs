//! The jobs a rule asks for: one module per job kind, with its payload and the `schedule`
//! function that queues it inside the caller's unit of work, so the job exists if and only if
//! the change that needs it is committed. The `portcullis-jobs` crate runs them.

/// Gives a payload type its job kind (`KIND`) and the `schedule` function that queues it.
macro_rules! job_kind {
    ($payload:ty, $kind:literal) => {
        /// The job kind.
        pub const KIND: &str = $kind;

        impl $payload {
            /// Queues the job in `repo`'s transaction, to run at once.
            ///
            /// # Errors
            /// When storage fails.
            pub async fn schedule(
                &self,
                repo: &mut dyn portcullis_storage::Repository,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<portcullis_model::Job, portcullis_storage::StorageError> {
                super::schedule(repo, KIND, self, now).await
            }
        }
    };
}
use job_kind;

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
