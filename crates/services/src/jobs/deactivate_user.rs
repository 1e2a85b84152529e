//! The `deactivate-user` job: end everything a deactivated user had, here and on the homeserver.
//!
//! The payload and how it is queued; the `portcullis-jobs` crate runs it.

use chrono::{DateTime, Utc};
use portcullis_model::Job;
use portcullis_storage::{Repository, StorageError};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

/// The job kind.
pub const KIND: &str = "deactivate-user";

/// The payload of a `deactivate-user` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeactivateUser {
    /// The user, already marked deactivated.
    pub user_id: Ulid,
    /// Also erase the user on the homeserver (GDPR erasure).
    #[serde(default)]
    pub hs_erase: bool,
}

impl DeactivateUser {
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
