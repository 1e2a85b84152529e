//! `deactivate-user`: end everything a deactivated user had, here and on the homeserver.
//!
//! Queued in the transaction that marks the user deactivated. The job ends the user's browser,
//! OAuth 2.0 and compatibility sessions and removes their email addresses, then deactivates the
//! user on the homeserver (which deletes their devices there), erasing their profile and hiding
//! their messages from new room members when asked to.

use async_trait::async_trait;
use portcullis_homeserver::HomeserverError;
use portcullis_model::Job;
use portcullis_worker::{JobError, JobHandler};

use portcullis_services::{
    jobs::deactivate_user::DeactivateUser,
    sessions::{ActiveSessions, Devices},
};

use crate::JobContext;

/// Runs `deactivate-user` jobs.
pub struct Handler(pub(crate) JobContext);

#[async_trait]
impl JobHandler for Handler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let DeactivateUser { user_id, hs_erase } = crate::payload(job)?;
        let now = self.0.clock.now();
        let mut repo = self.0.repositories.transaction().await?;
        let Some(user) = repo.users().find_by_id(user_id).await? else {
            repo.rollback().await?;
            tracing::info!(user.id = %user_id, "the user to deactivate no longer exists");
            return Ok(());
        };
        if user.deactivated_at.is_none() {
            // Reactivated since the job was queued: nothing to do.
            repo.rollback().await?;
            return Ok(());
        }
        let ended = ActiveSessions::of(&mut *repo, &user)
            .await?
            .end(&mut *repo, Devices::GoWithTheUser, now)
            .await?;
        for email in repo.user_emails().list_for_user(&user).await? {
            repo.user_emails().remove(email.id).await?;
        }
        repo.user_third_party_ids()
            .remove_all_for_user(&user)
            .await?;
        repo.commit().await?;

        match self
            .0
            .homeserver
            .delete_user(&user.username, hs_erase)
            .await
        {
            Ok(()) | Err(HomeserverError::NotFound { .. }) => {}
            Err(error) => return Err(error.into()),
        }
        tracing::info!(user.username = %user.username, sessions.ended = ended, hs_erase, "user deactivated");
        Ok(())
    }
}
