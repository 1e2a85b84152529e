//! `provision-user`: create the user on the homeserver, or bring it up to date.
//!
//! Queued when a user is created (registration, `manage register-user`) and when something the
//! homeserver keeps changes (display name, email addresses, lock). The job reads the user as it
//! is when it runs, so a late run never pushes stale data.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_homeserver::ProvisionRequest;
use portcullis_model::Job;
use portcullis_storage::{Repository, StorageError};
use portcullis_worker::{JobError, JobHandler};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::JobContext;

/// The job kind.
pub const KIND: &str = "provision-user";

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
