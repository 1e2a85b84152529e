//! The consents users remember for clients.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{OAuthClient, User};

use crate::StorageError;

/// The scope tokens each user agreed to give each client, so that a client asking again for
/// no more than that need not show the consent page again.
#[async_trait]
pub trait ConsentRepository: Send {
    /// Adds `scope_tokens` to what `user` granted `client` (what was granted before stays), and
    /// returns everything granted now, sorted.
    async fn grant(
        &mut self,
        user: &User,
        client: &OAuthClient,
        scope_tokens: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StorageError>;

    /// Every scope token `user` granted `client`, sorted; empty if none.
    async fn granted_scope(
        &mut self,
        user: &User,
        client: &OAuthClient,
    ) -> Result<Vec<String>, StorageError>;

    /// Forgets everything `user` granted `client`; `false` if there was nothing.
    async fn revoke(&mut self, user: &User, client: &OAuthClient) -> Result<bool, StorageError>;
}
