//! `provision-user`: create the user on the homeserver, or bring it up to date.
//!
//! Queued when a user is created (registration, `manage register-user`) and when something the
//! homeserver keeps changes (display name, email addresses, lock). The job reads the user as it
//! is when it runs, so a late run never pushes stale data.

use async_trait::async_trait;
use portcullis_model::Job;
use portcullis_worker::{JobError, JobHandler};

use portcullis_services::jobs::provision_user::ProvisionUser;

use crate::JobContext;

/// Runs `provision-user` jobs.
pub struct Handler(pub(crate) JobContext);

#[async_trait]
impl JobHandler for Handler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let job: ProvisionUser = crate::payload(job)?;
        let mut repo = self.0.repositories.read_transaction().await?;
        let found = job.request(&mut *repo).await?;
        repo.rollback().await?;
        let Some((user, request)) = found else {
            tracing::info!(user.id = %job.user_id, "the user to provision no longer exists");
            return Ok(());
        };
        let outcome = self.0.homeserver.provision_user(&request).await?;
        tracing::info!(user.id = %user.id, user.username = %user.username, ?outcome, "user provisioned on the homeserver");
        Ok(())
    }
}
