//! Tying accounts at upstream providers to users: what an administrator does through the Admin
//! API, and what upstream sign-in does once the visitor has an account.

use chrono::{DateTime, Utc};
use portcullis_model::{UpstreamLink, UpstreamProvider, User};
use portcullis_storage::{Repository, StorageError};

/// What [`link`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linked {
    /// A new link, to the user.
    Created(UpstreamLink),
    /// The account was known to the provider's links but tied to nobody: now it is the user's.
    Claimed(UpstreamLink),
    /// The account is already tied to a user (this one or another); nothing changed.
    AlreadyLinked(UpstreamLink),
}

/// Ties the account `subject` at `provider` to `user`, in the caller's unit of work.
///
/// # Errors
/// Only storage failures.
pub async fn link(
    repo: &mut dyn Repository,
    provider: &UpstreamProvider,
    subject: &str,
    human_account_name: Option<&str>,
    user: &User,
    now: DateTime<Utc>,
) -> Result<Linked, StorageError> {
    let links = repo.upstream_links();
    if let Some(existing) = links.find_by_subject(&provider.id, subject).await? {
        if existing.user_id.is_some() {
            return Ok(Linked::AlreadyLinked(existing));
        }
        return Ok(Linked::Claimed(links.associate(existing, user).await?));
    }
    let link = links
        .add(&provider.id, subject, human_account_name, now)
        .await?;
    Ok(Linked::Created(links.associate(link, user).await?))
}
