//! The OAuth 2.0 clients.

use async_trait::async_trait;
use portcullis_model::OAuthClient;
use ulid::Ulid;

use crate::StorageError;

/// Which clients a list holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuthClientFilter {
    /// `Some(true)`: from the configuration; `Some(false)`: registered dynamically.
    pub is_static: Option<bool>,
    /// Exactly this `client_name`.
    pub client_name: Option<String>,
    /// Exactly this `client_uri`.
    pub client_uri: Option<String>,
    /// Clients allowed this grant type.
    pub grant_type: Option<portcullis_oauth::requests::GrantType>,
    /// `Some(true)`: with a session not finished; `Some(false)`: without.
    pub has_active_sessions: Option<bool>,
}

/// Reads and writes [`OAuthClient`]s.
#[async_trait]
pub trait OAuthClientRepository: Send {
    /// Stores a client from the configuration file, updating in place the static client with
    /// the same `client_id` if there is one (which keeps its original `id` and `created_at`).
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if a dynamically registered client has that `client_id`.
    async fn upsert_static(&mut self, client: &OAuthClient) -> Result<OAuthClient, StorageError>;

    /// Stores a dynamically registered client (RFC 7591), as given but with `is_static` false.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] if the `client_id` is taken, or if a client with the same
    /// `metadata_digest` exists (two identical registrations raced: look that one up with
    /// [`find_dynamic_by_metadata_digest`](Self::find_dynamic_by_metadata_digest)).
    async fn add_dynamic(&mut self, client: &OAuthClient) -> Result<OAuthClient, StorageError>;

    /// The dynamically registered client whose metadata has this digest, if any: registering
    /// the same secret-less client again returns it instead of a copy.
    async fn find_dynamic_by_metadata_digest(
        &mut self,
        digest: &str,
    ) -> Result<Option<OAuthClient>, StorageError>;

    /// The client with this internal id, if any.
    async fn find(&mut self, id: Ulid) -> Result<Option<OAuthClient>, StorageError>;

    /// The client with this public `client_id`, if any.
    async fn find_by_client_id(
        &mut self,
        client_id: &str,
    ) -> Result<Option<OAuthClient>, StorageError>;

    /// Every static client, ordered by `client_id`.
    async fn list_static(&mut self) -> Result<Vec<OAuthClient>, StorageError>;

    /// Deletes the client; `false` if there was none.
    async fn delete(&mut self, id: Ulid) -> Result<bool, StorageError>;

    /// One page of the clients `filter` holds, oldest first.
    async fn list_page(
        &mut self,
        filter: &OAuthClientFilter,
        pagination: crate::Pagination,
    ) -> Result<crate::Page<OAuthClient>, StorageError>;

    /// How many clients `filter` holds.
    async fn count(&mut self, filter: &OAuthClientFilter) -> Result<usize, StorageError>;
}
