//! `/oauth2-sessions`: what OAuth 2.0 clients were granted, for users or for themselves.

pub mod finish;
pub mod get;
pub mod list;

use std::net::IpAddr;

use aide::axum::{
    ApiRouter,
    routing::{get_with, post_with},
};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_model::OAuthSession;
use portcullis_storage::Repository;
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

use crate::{error::ApiError, response::Resource, schema::UlidSchema};

/// An OAuth 2.0 session, as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OAuth2Session {
    #[serde(skip)]
    id: Ulid,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The user, unless the client acts for itself.
    #[schemars(with = "Option<UlidSchema>")]
    pub user_id: Option<Ulid>,
    /// The browser session it was started from.
    #[schemars(with = "Option<UlidSchema>")]
    pub user_session_id: Option<Ulid>,
    /// The client (its internal ID, as `/oauth2-clients` lists it).
    #[schemars(with = "UlidSchema")]
    pub client_id: Ulid,
    pub scope: String,
    pub user_agent: Option<String>,
    pub last_active_at: Option<DateTime<Utc>>,
    pub last_active_ip: Option<IpAddr>,
    pub human_name: Option<String>,
}

impl From<OAuthSession> for OAuth2Session {
    fn from(session: OAuthSession) -> Self {
        Self {
            id: session.id,
            created_at: session.created_at,
            finished_at: session.finished_at,
            user_id: session.user_id,
            user_session_id: session.user_session_id,
            client_id: session.client_id,
            scope: session.scope.to_string(),
            user_agent: session.user_agent,
            last_active_at: session.last_active_at,
            last_active_ip: session.last_active_ip,
            human_name: session.human_name,
        }
    }
}

impl Resource for OAuth2Session {
    const KIND: &'static str = "oauth2-session";
    const PATH: &'static str = "/api/admin/v1/oauth2-sessions";

    fn id(&self) -> Ulid {
        self.id
    }
}

async fn find(repo: &mut dyn Repository, id: Ulid) -> Result<OAuthSession, ApiError> {
    repo.oauth_sessions()
        .find(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("OAuth 2.0 session ID {id} not found")))
}

pub fn routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    router
        .api_route(
            "/api/admin/v1/oauth2-sessions",
            get_with(list::handler, list::doc),
        )
        .api_route(
            "/api/admin/v1/oauth2-sessions/{id}",
            get_with(get::handler, get::doc),
        )
        .api_route(
            "/api/admin/v1/oauth2-sessions/{id}/finish",
            post_with(finish::handler, finish::doc),
        )
}
