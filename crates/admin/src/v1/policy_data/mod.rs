//! `/policy-data`: data for the policy, pushed by operators' tooling; the newest is the one in
//! effect, over `policy.data` of the configuration.
//!
//! Stored and served now; the policy that reads it comes with policy evaluation (until then
//! only `policy.data` of the configuration is applied, and only its `admin_users` and
//! `admin_clients`).

pub mod get;
pub mod latest;
pub mod set;

use aide::axum::{
    ApiRouter,
    routing::{get_with, post_with},
};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

use crate::response::Resource;

/// One version of the policy data.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PolicyData {
    #[serde(skip)]
    id: Ulid,
    pub created_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

impl From<portcullis_storage::PolicyData> for PolicyData {
    fn from(data: portcullis_storage::PolicyData) -> Self {
        Self {
            id: data.id,
            created_at: data.created_at,
            data: data.data,
        }
    }
}

impl Resource for PolicyData {
    const KIND: &'static str = "policy-data";
    const PATH: &'static str = "/api/admin/v1/policy-data";

    fn id(&self) -> Ulid {
        self.id
    }
}

pub fn routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    router
        .api_route(
            "/api/admin/v1/policy-data",
            post_with(set::handler, set::doc),
        )
        .api_route(
            "/api/admin/v1/policy-data/latest",
            get_with(latest::handler, latest::doc),
        )
        .api_route(
            "/api/admin/v1/policy-data/{id}",
            get_with(get::handler, get::doc),
        )
}
