//! The `provision-user` job: create the user on the homeserver, or bring it up to date.
//!
//! The payload and how it is queued; the `portcullis-jobs` crate runs it.

use portcullis_homeserver::ProvisionRequest;
use portcullis_model::User;
use portcullis_storage::{Repository, StorageError};
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

impl ProvisionUser {
    /// What to ask the homeserver, from the user as stored now (so a late run never pushes
    /// stale data): its lock, its addresses, the display name to set. `None` when the user no
    /// longer exists. The queued job and `manage register-user` (which provisions before it
    /// returns) both send this.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn request(
        &self,
        repo: &mut dyn Repository,
    ) -> Result<Option<(User, ProvisionRequest)>, StorageError> {
        let Some(user) = repo.users().find_by_id(self.user_id).await? else {
            return Ok(None);
        };
        let emails = repo.user_emails().list_for_user(&user).await?;
        let emails: Vec<String> = emails.into_iter().map(|email| email.email).collect();
        let mut request = ProvisionRequest::new(&user.username).locked(user.locked_at.is_some());
        request = if emails.is_empty() {
            request.unset_emails()
        } else {
            request.set_emails(emails)
        };
        if let Some(display_name) = &self.set_display_name {
            request = request.set_displayname(display_name.clone());
        }
        Ok(Some((user, request)))
    }
}

super::job_kind!(ProvisionUser, "provision-user");
