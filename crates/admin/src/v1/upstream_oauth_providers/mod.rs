//! `/upstream-oauth-providers`: the upstream identity providers of the configuration (read
//! only: they are configured in the file, as in MAS).

pub mod get;
pub mod list;

use aide::axum::{ApiRouter, routing::get_with};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_model::UpstreamProvider;
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

use crate::response::Resource;

/// A provider, as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UpstreamOAuthProvider {
    #[serde(skip)]
    id: Ulid,
    pub issuer: Option<String>,
    pub human_name: Option<String>,
    pub brand_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Registering through it needs a registration token.
    pub registration_token_required: bool,
}

impl UpstreamOAuthProvider {
    /// The provider, if its ID is a ULID (as MAS requires of every provider's `id`).
    fn new(provider: UpstreamProvider) -> Option<Self> {
        let id = provider.id.parse().ok()?;
        Some(Self {
            id,
            registration_token_required: provider
                .config
                .get("registration_token_required")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
            issuer: provider.issuer,
            human_name: provider.human_name,
            brand_name: provider.brand_name,
            created_at: provider.created_at,
            disabled_at: provider.disabled_at,
        })
    }
}

impl Resource for UpstreamOAuthProvider {
    const KIND: &'static str = "upstream-oauth-provider";
    const PATH: &'static str = "/api/admin/v1/upstream-oauth-providers";

    fn id(&self) -> Ulid {
        self.id
    }
}

pub fn routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    router
        .api_route(
            "/api/admin/v1/upstream-oauth-providers",
            get_with(list::handler, list::doc),
        )
        .api_route(
            "/api/admin/v1/upstream-oauth-providers/{id}",
            get_with(get::handler, get::doc),
        )
}
