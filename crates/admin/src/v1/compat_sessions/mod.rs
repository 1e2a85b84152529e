//! `/compat-sessions`: the sessions of the Matrix login API, one per device.

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
use portcullis_model::CompatSession as Session;
use portcullis_storage::Repository;
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

use crate::{error::ApiError, response::Resource, schema::UlidSchema};

/// A compatibility session, as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CompatSession {
    #[serde(skip)]
    id: Ulid,
    #[schemars(with = "UlidSchema")]
    pub user_id: Ulid,
    pub device_id: Option<String>,
    /// The browser session of a single sign-on login.
    #[schemars(with = "Option<UlidSchema>")]
    pub user_session_id: Option<Ulid>,
    /// Where a single sign-on login went back to (not kept here: always null).
    pub redirect_uri: Option<String>,
    pub created_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub last_active_at: Option<DateTime<Utc>>,
    pub last_active_ip: Option<IpAddr>,
    pub finished_at: Option<DateTime<Utc>>,
    pub human_name: Option<String>,
}

impl From<Session> for CompatSession {
    fn from(session: Session) -> Self {
        Self {
            id: session.id,
            user_id: session.user_id,
            device_id: Some(session.device_id),
            user_session_id: session.user_session_id,
            redirect_uri: None,
            created_at: session.created_at,
            user_agent: session.user_agent,
            last_active_at: session.last_active_at,
            last_active_ip: session.last_active_ip,
            finished_at: session.finished_at,
            human_name: session.human_name,
        }
    }
}

impl Resource for CompatSession {
    const KIND: &'static str = "compat-session";
    const PATH: &'static str = "/api/admin/v1/compat-sessions";

    fn id(&self) -> Ulid {
        self.id
    }
}

async fn find(repo: &mut dyn Repository, id: Ulid) -> Result<Session, ApiError> {
    repo.compat_sessions()
        .find(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Compatibility session ID {id} not found")))
}

pub fn routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    router
        .api_route(
            "/api/admin/v1/compat-sessions",
            get_with(list::handler, list::doc),
        )
        .api_route(
            "/api/admin/v1/compat-sessions/{id}",
            get_with(get::handler, get::doc),
        )
        .api_route(
            "/api/admin/v1/compat-sessions/{id}/finish",
            post_with(finish::handler, finish::doc),
        )
}
