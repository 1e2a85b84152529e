//! The `reactivate-user` job: reactivate a user on the homeserver, then here.
//!
//! The payload and how it is queued; the `portcullis-jobs` crate runs it.

use serde::{Deserialize, Serialize};
use ulid::Ulid;

/// The payload of a `reactivate-user` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactivateUser {
    /// The user to reactivate.
    pub user_id: Ulid,
}

super::job_kind!(ReactivateUser, "reactivate-user");
