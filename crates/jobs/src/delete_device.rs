//! `delete-device`: delete a device on the homeserver once no session of ours uses it.
//!
//! Queued when a session bound to a device ends (revocation, sign-out, a replayed code...).
//! Deleting the device is what makes the homeserver forget the tokens it cached for it, so an
//! ended session stops working there too. The job checks again when it runs: a device that a
//! newer session has taken over in the meantime (a client that logs in again with the same
//! device ID) is kept.

use async_trait::async_trait;
use portcullis_homeserver::HomeserverError;
use portcullis_model::Job;
use portcullis_worker::{JobError, JobHandler};

use portcullis_services::{jobs::delete_device::DeleteDevice, sessions::device_in_use};

use crate::JobContext;

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
