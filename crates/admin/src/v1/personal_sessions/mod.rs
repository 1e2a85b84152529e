//! `/personal-sessions`: personal sessions and their access tokens, for bots and tools.

pub mod add;
pub mod get;
pub mod list;
pub mod regenerate;
pub mod revoke;

use std::net::IpAddr;

use aide::axum::{
    ApiRouter,
    routing::{get_with, post_with},
};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_model::PersonalSessionOwner;
use portcullis_storage::Repository;
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

pub(crate) use self::regenerate::capitalized;
use crate::{error::ApiError, response::Resource, schema::UlidSchema};

/// A personal session, as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PersonalSession {
    #[serde(skip)]
    id: Ulid,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The user who made it, if a user did.
    #[schemars(with = "Option<UlidSchema>")]
    pub owner_user_id: Option<Ulid>,
    /// The client that made it, if a client did.
    #[schemars(with = "Option<UlidSchema>")]
    pub owner_client_id: Option<Ulid>,
    /// The user it acts as.
    #[schemars(with = "UlidSchema")]
    pub actor_user_id: Ulid,
    pub human_name: String,
    pub scope: String,
    pub last_active_at: Option<DateTime<Utc>>,
    pub last_active_ip: Option<IpAddr>,
    /// When its token stops being accepted.
    pub expires_at: Option<DateTime<Utc>>,
    /// The token, only in the answer that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

impl PersonalSession {
    fn new(session: portcullis_model::PersonalSession, access_token: Option<String>) -> Self {
        let (owner_user_id, owner_client_id) = match session.owner {
            PersonalSessionOwner::User(user) => (Some(user), None),
            PersonalSessionOwner::Client(client) => (None, Some(client)),
        };
        Self {
            id: session.id,
            created_at: session.created_at,
            revoked_at: session.revoked_at,
            owner_user_id,
            owner_client_id,
            actor_user_id: session.actor_user_id,
            human_name: session.human_name,
            scope: session.scope.to_string(),
            last_active_at: session.last_active_at,
            last_active_ip: session.last_active_ip,
            expires_at: session.expires_at,
            access_token,
        }
    }
}

impl From<portcullis_model::PersonalSession> for PersonalSession {
    fn from(session: portcullis_model::PersonalSession) -> Self {
        Self::new(session, None)
    }
}

impl Resource for PersonalSession {
    const KIND: &'static str = "personal-session";
    const PATH: &'static str = "/api/admin/v1/personal-sessions";

    fn id(&self) -> Ulid {
        self.id
    }
}

/// The session with this id, or the API's 404.
async fn find(
    repo: &mut dyn Repository,
    id: Ulid,
) -> Result<portcullis_model::PersonalSession, ApiError> {
    repo.personal_sessions()
        .find(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Personal session ID {id} not found")))
}

pub fn routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    router
        .api_route(
            "/api/admin/v1/personal-sessions",
            get_with(list::handler, list::doc).post_with(add::handler, add::doc),
        )
        .api_route(
            "/api/admin/v1/personal-sessions/{id}",
            get_with(get::handler, get::doc),
        )
        .api_route(
            "/api/admin/v1/personal-sessions/{id}/revoke",
            post_with(revoke::handler, revoke::doc),
        )
        .api_route(
            "/api/admin/v1/personal-sessions/{id}/regenerate",
            post_with(regenerate::handler, regenerate::doc),
        )
}
