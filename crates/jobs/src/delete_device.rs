//! `delete-device`: delete a device on the homeserver once no session of ours uses it.
//!
//! Queued when a session bound to a device ends (revocation, sign-out, a replayed code...).
//! Deleting the device is what makes the homeserver forget the tokens it cached for it, so an
//! ended session stops working there too. The job checks again when it runs: a device that a
//! newer session has taken over in the meantime (a client that logs in again with the same
//! device ID) is kept.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_homeserver::HomeserverError;
use portcullis_model::Job;
use portcullis_oauth::scope::Scope;
use portcullis_storage::{Repository, StorageError};
use portcullis_worker::{JobError, JobHandler};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::JobContext;

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
        crate::schedule(repo, KIND, self, now).await
    }
}

/// Whether an active session of the user, OAuth 2.0 or compatibility, is still bound to
/// `device_id`.
///
/// # Errors
/// When storage fails.
pub async fn device_in_use(
    repo: &mut dyn Repository,
    user: &portcullis_model::User,
    device_id: &str,
) -> Result<bool, StorageError> {
    let oauth = repo.oauth_sessions().list_active_for_user(user).await?;
    let oauth_uses_it = oauth.iter().any(|session| {
        session
            .scope
            .parse::<Scope>()
            .is_ok_and(|scope| scope.device_id() == Some(device_id))
    });
    if oauth_uses_it {
        return Ok(true);
    }
    let compat = repo
        .compat_sessions()
        .list_active_for_device(user.id, device_id)
        .await?;
    Ok(!compat.is_empty())
}

/// Runs `delete-device` jobs.
pub struct Handler(pub(crate) JobContext);

#[async_trait]
impl JobHandler for Handler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let DeleteDevice { user_id, device_id } = crate::payload(job)?;
        let mut repo = self.0.repositories.read_transaction().await?;
        let Some(user) = repo.users().find_by_id(user_id).await? else {
            repo.rollback().await?;
            tracing::info!(user.id = %user_id, "the owner of the device to delete no longer exists");
            return Ok(());
        };
        let in_use = device_in_use(&mut *repo, &user, &device_id).await?;
        repo.rollback().await?;
        if in_use {
            tracing::info!(user.username = %user.username, device.id = %device_id, "device kept: a newer session uses it");
            return Ok(());
        }

        match self
            .0
            .homeserver
            .delete_device(&user.username, &device_id)
            .await
        {
            Ok(()) => {
                tracing::info!(user.username = %user.username, device.id = %device_id, "device deleted on the homeserver");
                Ok(())
            }
            // Already gone (or the user was never provisioned): nothing left to do.
            Err(HomeserverError::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}
