//! `/user-sessions`: browser sessions, the sign-ins of users on the pages.

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
use portcullis_model::BrowserSession;
use portcullis_storage::Repository;
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

use crate::{error::ApiError, response::Resource, schema::UlidSchema};

/// A browser session, as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UserSession {
    #[serde(skip)]
    id: Ulid,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    #[schemars(with = "UlidSchema")]
    pub user_id: Ulid,
    pub user_agent: Option<String>,
    pub last_active_at: Option<DateTime<Utc>>,
    pub last_active_ip: Option<IpAddr>,
}

impl From<BrowserSession> for UserSession {
    fn from(session: BrowserSession) -> Self {
        Self {
            id: session.id,
            created_at: session.created_at,
            finished_at: session.finished_at,
            user_id: session.user_id,
            user_agent: session.user_agent,
            last_active_at: session.last_active_at,
            last_active_ip: session.last_active_ip,
        }
    }
}

impl Resource for UserSession {
    const KIND: &'static str = "user-session";
    const PATH: &'static str = "/api/admin/v1/user-sessions";

    fn id(&self) -> Ulid {
        self.id
    }
}

async fn find(repo: &mut dyn Repository, id: Ulid) -> Result<BrowserSession, ApiError> {
    repo.browser_sessions()
        .find(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("User session ID {id} not found")))
}

pub fn routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    router
        .api_route(
            "/api/admin/v1/user-sessions",
            get_with(list::handler, list::doc),
        )
        .api_route(
            "/api/admin/v1/user-sessions/{id}",
            get_with(get::handler, get::doc),
        )
        .api_route(
            "/api/admin/v1/user-sessions/{id}/finish",
            post_with(finish::handler, finish::doc),
        )
}
