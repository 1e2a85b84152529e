//! `provision-user`: create the user on the homeserver, or bring it up to date.
//!
//! Queued when a user is created (registration, `manage register-user`) and when something the
//! homeserver keeps changes (display name, email addresses, lock). The job reads the user as it
//! is when it runs, so a late run never pushes stale data.

use async_trait::async_trait;
use portcullis_homeserver::ProvisionRequest;
use portcullis_model::Job;
use portcullis_worker::{JobError, JobHandler};

use portcullis_services::jobs::provision_user::ProvisionUser;

use crate::JobContext;

/// Runs `provision-user` jobs.
pub struct Handler(pub(crate) JobContext);

#[async_trait]
impl JobHandler for Handler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let ProvisionUser {
            user_id,
            set_display_name,
        } = crate::payload(job)?;
        let mut repo = self.0.repositories.read_transaction().await?;
        let Some(user) = repo.users().find_by_id(user_id).await? else {
            repo.rollback().await?;
            tracing::info!(user.id = %user_id, "the user to provision no longer exists");
            return Ok(());
        };
        let emails = repo.user_emails().list_for_user(&user).await?;
        repo.rollback().await?;

        let emails: Vec<String> = emails.into_iter().map(|email| email.email).collect();
        let mut request = ProvisionRequest::new(&user.username).locked(user.locked_at.is_some());
        request = if emails.is_empty() {
            request.unset_emails()
        } else {
            request.set_emails(emails)
        };
        if let Some(display_name) = set_display_name {
            request = request.set_displayname(display_name);
        }
        let outcome = self.0.homeserver.provision_user(&request).await?;
        tracing::info!(user.id = %user.id, user.username = %user.username, ?outcome, "user provisioned on the homeserver");
        Ok(())
    }
}
