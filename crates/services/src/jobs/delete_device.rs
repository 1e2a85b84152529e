//! The `delete-device` job: delete a device on the homeserver once no session of ours uses it.
//!
//! The payload and how it is queued; the `portcullis-jobs` crate runs it.

use serde::{Deserialize, Serialize};
use ulid::Ulid;

/// The payload of a `delete-device` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteDevice {
    /// The device's owner.
    pub user_id: Ulid,
    /// The Matrix device ID.
    pub device_id: String,
}

super::job_kind!(DeleteDevice, "delete-device");
