//! The `delete-device` job: delete a device on the homeserver once no session of ours uses it.
//!
//! The payload and how it is queued; the `portcullis-jobs` crate runs it.

use chrono::{DateTime, Utc};
use portcullis_model::Job;
use portcullis_storage::{Repository, StorageError};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

/// The job kind.
pub const KIND: &str = "delete-device";

/// The payload of a `delete-device` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteDevice {
    /// The device's owner.
    pub user_id: Ulid,
    /// The Matrix device ID.
    pub device_id: String,
}

impl DeleteDevice {
    /// Queues the job in `repo`'s transaction, to run at once.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn schedule(
        &self,
        repo: &mut dyn Repository,
        now: DateTime<Utc>,
    ) -> Result<Job, StorageError> {
        super::schedule(repo, KIND, self, now).await
    }
}
