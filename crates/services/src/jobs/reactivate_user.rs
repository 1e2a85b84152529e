//! The `reactivate-user` job: reactivate a user on the homeserver, then here.
//!
//! The payload and how it is queued; the `portcullis-jobs` crate runs it.

use chrono::{DateTime, Utc};
use portcullis_model::Job;
use portcullis_storage::{Repository, StorageError};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

/// The job kind.
pub const KIND: &str = "reactivate-user";

/// The payload of a `reactivate-user` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactivateUser {
    /// The user to reactivate.
    pub user_id: Ulid,
}

impl ReactivateUser {
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
