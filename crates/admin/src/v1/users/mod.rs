//! `/users`: accounts, listed and changed by an operator.

pub mod add;
pub mod allow_cross_signing_reset;
pub mod by_username;
pub mod deactivate;
pub mod get;
pub mod list;
pub mod lock;
pub mod reactivate;
pub mod remove_second_factors;
pub mod set_admin;
pub mod set_password;
pub mod unlock;

use aide::axum::{
    ApiRouter,
    routing::{get_with, post_with},
};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_storage::Repository;
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

use crate::{error::ApiError, response::Resource};

/// A user, as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct User {
    #[serde(skip)]
    id: Ulid,
    /// The localpart of the Matrix ID.
    pub username: String,
    pub created_at: DateTime<Utc>,
    /// Set while the account is locked.
    pub locked_at: Option<DateTime<Utc>>,
    /// Set once the account is deactivated.
    pub deactivated_at: Option<DateTime<Utc>>,
    /// Whether the user may ask for the admin scope.
    pub admin: bool,
    /// Whether the account is a guest brought over from Synapse (never, so far).
    pub legacy_guest: bool,
}

impl From<portcullis_model::User> for User {
    fn from(user: portcullis_model::User) -> Self {
        Self {
            id: user.id,
            username: user.username,
            created_at: user.created_at,
            locked_at: user.locked_at,
            deactivated_at: user.deactivated_at,
            admin: user.can_request_admin,
            legacy_guest: user.legacy_guest,
        }
    }
}

impl Resource for User {
    const KIND: &'static str = "user";
    const PATH: &'static str = "/api/admin/v1/users";

    fn id(&self) -> Ulid {
        self.id
    }
}

/// The user with this id, or the API's 404.
pub(crate) async fn find(
    repo: &mut dyn Repository,
    id: Ulid,
) -> Result<portcullis_model::User, ApiError> {
    repo.users()
        .find_by_id(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("User ID {id} not found")))
}

pub fn routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    router
        .api_route(
            "/api/admin/v1/users",
            get_with(list::handler, list::doc).post_with(add::handler, add::doc),
        )
        .api_route("/api/admin/v1/users/{id}", get_with(get::handler, get::doc))
        .api_route(
            "/api/admin/v1/users/by-username/{username}",
            get_with(by_username::handler, by_username::doc),
        )
        .api_route(
            "/api/admin/v1/users/{id}/set-password",
            post_with(set_password::handler, set_password::doc),
        )
        .api_route(
            "/api/admin/v1/users/{id}/set-admin",
            post_with(set_admin::handler, set_admin::doc),
        )
        .api_route(
            "/api/admin/v1/users/{id}/deactivate",
            post_with(deactivate::handler, deactivate::doc),
        )
        .api_route(
            "/api/admin/v1/users/{id}/reactivate",
            post_with(reactivate::handler, reactivate::doc),
        )
        .api_route(
            "/api/admin/v1/users/{id}/lock",
            post_with(lock::handler, lock::doc),
        )
        .api_route(
            "/api/admin/v1/users/{id}/unlock",
            post_with(unlock::handler, unlock::doc),
        )
        .api_route(
            "/api/admin/v1/users/{id}/allow-cross-signing-reset",
            post_with(
                allow_cross_signing_reset::handler,
                allow_cross_signing_reset::doc,
            ),
        )
        .api_route(
            "/api/admin/v1/users/{id}/remove-second-factors",
            post_with(remove_second_factors::handler, remove_second_factors::doc),
        )
}
