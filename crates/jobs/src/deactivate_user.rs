//! `deactivate-user`: end everything a deactivated user had, here and on the homeserver.
//!
//! Queued in the transaction that marks the user deactivated. The job ends the user's browser,
//! OAuth 2.0 and compatibility sessions and removes their email addresses, then deactivates the
//! user on the homeserver (which deletes their devices there), erasing their profile and hiding
//! their messages from new room members when asked to.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_homeserver::HomeserverError;
use portcullis_model::Job;
use portcullis_storage::{Repository, StorageError};
use portcullis_worker::{JobError, JobHandler};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::JobContext;

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
        crate::schedule(repo, KIND, self, now).await
    }
}

/// Ends every session of the user and removes their addresses; returns how many sessions
/// ended.
///
/// # Errors
/// When storage fails.
pub async fn end_everything(
    repo: &mut dyn Repository,
    user: &portcullis_model::User,
    now: DateTime<Utc>,
) -> Result<usize, StorageError> {
    let mut ended = 0;
    for session in repo.browser_sessions().list_active_for_user(user).await? {
        repo.browser_sessions().finish(session.id, now).await?;
        ended += 1;
    }
    for session in repo.oauth_sessions().list_active_for_user(user).await? {
        repo.oauth_refresh_tokens()
            .revoke_all_for_session(&session, now)
            .await?;
        repo.oauth_sessions().finish(session.id, now).await?;
        ended += 1;
    }
    for session in repo.compat_sessions().list_active_for_user(user).await? {
        repo.compat_sessions().finish(session.id, now).await?;
        ended += 1;
    }
    Ok(ended)
}

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
        let ended = end_everything(&mut *repo, &user, now).await?;
        for email in repo.user_emails().list_for_user(&user).await? {
            repo.user_emails().remove(email.id).await?;
        }
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
