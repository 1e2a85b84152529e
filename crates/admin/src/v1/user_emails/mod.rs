//! `/user-emails`: the users' email addresses.

pub mod add;
pub mod delete;
pub mod get;
pub mod list;

use aide::axum::{ApiRouter, routing::get_with};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_storage::Repository;
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

use crate::{error::ApiError, response::Resource, schema::UlidSchema};

/// An address, as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UserEmail {
    #[serde(skip)]
    id: Ulid,
    pub created_at: DateTime<Utc>,
    #[schemars(with = "UlidSchema")]
    pub user_id: Ulid,
    pub email: String,
}

impl From<portcullis_model::UserEmail> for UserEmail {
    fn from(email: portcullis_model::UserEmail) -> Self {
        Self {
            id: email.id,
            created_at: email.created_at,
            user_id: email.user_id,
            email: email.email,
        }
    }
}

impl Resource for UserEmail {
    const KIND: &'static str = "user-email";
    const PATH: &'static str = "/api/admin/v1/user-emails";

    fn id(&self) -> Ulid {
        self.id
    }
}

async fn find(
    repo: &mut dyn Repository,
    id: Ulid,
) -> Result<portcullis_model::UserEmail, ApiError> {
    repo.user_emails()
        .find(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("User email ID {id} not found")))
}

pub fn routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    router
        .api_route(
            "/api/admin/v1/user-emails",
            get_with(list::handler, list::doc).post_with(add::handler, add::doc),
        )
        .api_route(
            "/api/admin/v1/user-emails/{id}",
            get_with(get::handler, get::doc).delete_with(delete::handler, delete::doc),
        )
}
