//! `/upstream-oauth-links`: the accounts at upstream providers tied to users.
//!
//! Only the links of providers whose ID is a ULID are shown, as for the providers themselves:
//! a provider named by a short name (our extension) has no ID the API can carry.

pub mod add;
pub mod delete;
pub mod get;
pub mod list;

use aide::axum::{ApiRouter, routing::get_with};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_model::{UpstreamLink, UpstreamProvider};
use portcullis_storage::Repository;
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

use crate::{error::ApiError, response::Resource, schema::UlidSchema};

/// A link, as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UpstreamOAuthLink {
    #[serde(skip)]
    id: Ulid,
    pub created_at: DateTime<Utc>,
    /// The provider (always one whose ID is a ULID).
    #[schemars(with = "UlidSchema")]
    pub provider_id: String,
    /// The account's identifier at the provider.
    pub subject: String,
    /// The user, once the account is tied to one.
    #[schemars(with = "Option<UlidSchema>")]
    pub user_id: Option<Ulid>,
    /// A name of the upstream account a person recognises.
    pub human_account_name: Option<String>,
}

impl From<UpstreamLink> for UpstreamOAuthLink {
    fn from(link: UpstreamLink) -> Self {
        Self {
            id: link.id,
            created_at: link.created_at,
            provider_id: link.provider_id,
            subject: link.subject,
            user_id: link.user_id,
            human_account_name: link.human_account_name,
        }
    }
}

impl Resource for UpstreamOAuthLink {
    const KIND: &'static str = "upstream-oauth-link";
    const PATH: &'static str = "/api/admin/v1/upstream-oauth-links";

    fn id(&self) -> Ulid {
        self.id
    }
}

/// Whether the API shows the provider and its links.
fn shown(provider_id: &str) -> bool {
    provider_id.parse::<Ulid>().is_ok()
}

/// The provider with this ID, as the API sees them.
async fn find_provider(repo: &mut dyn Repository, id: Ulid) -> Result<UpstreamProvider, ApiError> {
    repo.upstream_providers()
        .find(&id.to_string())
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("Upstream OAuth 2.0 provider ID {id} not found"))
        })
}

/// The link with this ID, if the API shows it.
async fn find(repo: &mut dyn Repository, id: Ulid) -> Result<UpstreamLink, ApiError> {
    repo.upstream_links()
        .find(id)
        .await?
        .filter(|link| shown(&link.provider_id))
        .ok_or_else(|| ApiError::not_found(format!("Upstream OAuth 2.0 link ID {id} not found")))
}

pub fn routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    router
        .api_route(
            "/api/admin/v1/upstream-oauth-links",
            get_with(list::handler, list::doc).post_with(add::handler, add::doc),
        )
        .api_route(
            "/api/admin/v1/upstream-oauth-links/{id}",
            get_with(get::handler, get::doc).delete_with(delete::handler, delete::doc),
        )
}
