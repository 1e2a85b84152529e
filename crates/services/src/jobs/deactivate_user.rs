//! The `deactivate-user` job: end everything a deactivated user had, here and on the homeserver.
//!
//! The payload and how it is queued; the `portcullis-jobs` crate runs it.

use serde::{Deserialize, Serialize};
use ulid::Ulid;

/// The payload of a `deactivate-user` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeactivateUser {
    /// The user, already marked deactivated.
    pub user_id: Ulid,
    /// Also erase the user on the homeserver (GDPR erasure).
    #[serde(default)]
    pub hs_erase: bool,
}

super::job_kind!(DeactivateUser, "deactivate-user");
