//! Tying accounts at upstream providers to users: what an administrator does through the Admin
//! API, and what upstream sign-in does once the visitor has an account.

use chrono::{DateTime, Utc};
use portcullis_model::{UpstreamLink, UpstreamProvider, User};
use portcullis_storage::{Pagination, Repository, StorageError, UpstreamLinkFilter};
use ulid::Ulid;

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
        // Conditional: an upstream sign-in may claim it at the same moment.
        return Ok(match links.claim(existing.id, user).await? {
            Some(claimed) => Linked::Claimed(claimed),
            None => Linked::AlreadyLinked(existing),
        });
    }
    let link = links
        .add(&provider.id, subject, human_account_name, now)
        .await?;
    Ok(Linked::Created(links.associate(link, user).await?))
}

/// The user's accounts at upstream providers, oldest first.
///
/// # Errors
/// When storage fails.
pub async fn linked_accounts(
    repo: &mut dyn Repository,
    user: &User,
) -> Result<Vec<UpstreamLink>, StorageError> {
    let filter = UpstreamLinkFilter {
        user: Some(user.id),
        ..UpstreamLinkFilter::default()
    };
    // A person has a handful of accounts at providers, not hundreds.
    Ok(repo
        .upstream_links()
        .list_page(&filter, Pagination::first(100))
        .await?
        .edges)
}

/// What [`unlink`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlinked {
    Removed,
    /// The user has no such link.
    NotFound,
    /// It is the user's last way in (see [`crate::ways_in`]): no password they may use, no
    /// passkey that signs in alone, no other account at an enabled provider. Nothing changed.
    LastWayIn,
}

/// Removes the user's link `link_id`, if they keep another way to sign in, as `counted` here.
///
/// # Errors
/// When storage fails.
pub async fn unlink(
    repo: &mut dyn Repository,
    user: &User,
    link_id: Ulid,
    counted: crate::ways_in::Counted,
) -> Result<Unlinked, StorageError> {
    let links = linked_accounts(repo, user).await?;
    if !links.iter().any(|link| link.id == link_id) {
        return Ok(Unlinked::NotFound);
    }
    let ways_in = crate::ways_in::ways_in(repo, user, counted).await?;
    if !ways_in.any_but_link(link_id) {
        return Ok(Unlinked::LastWayIn);
    }
    Ok(if repo.upstream_links().remove(link_id).await? {
        Unlinked::Removed
    } else {
        Unlinked::NotFound
    })
}
