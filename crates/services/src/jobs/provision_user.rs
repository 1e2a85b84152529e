//! The `provision-user` job: create the user on the homeserver, or bring it up to date.
//!
//! The payload and how it is queued; the `portcullis-jobs` crate runs it.

use serde::{Deserialize, Serialize};
use ulid::Ulid;

/// The payload of a `provision-user` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionUser {
    /// The user to provision.
    pub user_id: Ulid,
    /// A display name to set on the homeserver's profile; `None` leaves it as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_display_name: Option<String>,
}

impl ProvisionUser {
    /// A job that provisions `user_id` without touching its display name.
    #[must_use]
    pub fn new(user_id: Ulid) -> Self {
        Self {
            user_id,
            set_display_name: None,
        }
    }

    /// Also set this display name.
    #[must_use]
    pub fn with_display_name(mut self, display_name: Option<String>) -> Self {
        self.set_display_name = display_name;
        self
    }
}

super::job_kind!(ProvisionUser, "provision-user");
