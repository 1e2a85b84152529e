//! `/user-registration-tokens`: the tokens that let someone register when registration
//! requires one.

pub mod add;
pub mod get;
pub mod list;
pub mod revoke;
pub mod unrevoke;
pub mod update;

use aide::axum::{
    ApiRouter,
    routing::{get_with, post_with},
};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_model::RegistrationToken;
use portcullis_storage::Repository;
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

use crate::{error::ApiError, response::Resource};

/// A registration token, as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UserRegistrationToken {
    #[serde(skip)]
    id: Ulid,
    /// The token (empty for tokens made before their clear value was kept).
    pub token: String,
    /// Whether it is accepted now: not revoked, not expired, not used up.
    pub valid: bool,
    pub usage_limit: Option<u32>,
    pub times_used: u32,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl UserRegistrationToken {
    fn new(token: RegistrationToken, now: DateTime<Utc>) -> Self {
        Self {
            id: token.id,
            valid: token.is_valid(now),
            token: token.token.unwrap_or_default(),
            usage_limit: token.usage_limit,
            times_used: token.times_used,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
            expires_at: token.expires_at,
            revoked_at: token.revoked_at,
        }
    }
}

impl Resource for UserRegistrationToken {
    const KIND: &'static str = "user-registration-token";
    const PATH: &'static str = "/api/admin/v1/user-registration-tokens";

    fn id(&self) -> Ulid {
        self.id
    }
}

async fn find(repo: &mut dyn Repository, id: Ulid) -> Result<RegistrationToken, ApiError> {
    repo.registration_tokens()
        .find(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Registration token ID {id} not found")))
}

pub fn routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    router
        .api_route(
            "/api/admin/v1/user-registration-tokens",
            get_with(list::handler, list::doc).post_with(add::handler, add::doc),
        )
        .api_route(
            "/api/admin/v1/user-registration-tokens/{id}",
            get_with(get::handler, get::doc).put_with(update::handler, update::doc),
        )
        .api_route(
            "/api/admin/v1/user-registration-tokens/{id}/revoke",
            post_with(revoke::handler, revoke::doc),
        )
        .api_route(
            "/api/admin/v1/user-registration-tokens/{id}/unrevoke",
            post_with(unrevoke::handler, unrevoke::doc),
        )
}
