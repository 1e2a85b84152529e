//! `reactivate-user`: bring a deactivated user back, on the homeserver first.
//!
//! The homeserver is asked first, so that a user is never active here while still deactivated
//! there; the local flag is lifted only once the homeserver agreed. The user's sessions and
//! addresses, ended at deactivation, do not come back.

use async_trait::async_trait;
use portcullis_homeserver::{HomeserverError, ProvisionRequest};
use portcullis_model::Job;
use portcullis_worker::{JobError, JobHandler};

use portcullis_services::jobs::reactivate_user::ReactivateUser;

use crate::JobContext;

/// Runs `reactivate-user` jobs.
pub struct Handler(pub(crate) JobContext);

#[async_trait]
impl JobHandler for Handler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let ReactivateUser { user_id } = crate::payload(job)?;
        let mut repo = self.0.repositories.read_transaction().await?;
        let user = repo.users().find_by_id(user_id).await?;
        repo.rollback().await?;
        let Some(user) = user else {
            tracing::info!(user.id = %user_id, "the user to reactivate no longer exists");
            return Ok(());
        };

        match self.0.homeserver.reactivate_user(&user.username).await {
            Ok(()) => {}
            // Never provisioned there: create the user instead.
            Err(HomeserverError::NotFound { .. }) => {
                self.0
                    .homeserver
                    .provision_user(&ProvisionRequest::new(&user.username))
                    .await?;
            }
            Err(error) => return Err(error.into()),
        }

        let mut repo = self.0.repositories.transaction().await?;
        if let Some(user) = repo.users().find_by_id(user_id).await? {
            repo.users().reactivate(user).await?;
        }
        repo.commit().await?;
        tracing::info!(user.username = %user.username, "user reactivated");
        Ok(())
    }
}
