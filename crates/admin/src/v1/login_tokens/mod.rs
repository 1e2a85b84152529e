//! One-shot login tokens for bots (Portcullis's own, not in MAS): `POST
//! /users/{id}/login-tokens` issues one, as `mas-cli manage issue-login-token` does, and `GET
//! /login-tokens/{id}` tells whether it was redeemed. The token itself is in the creation's
//! answer only.

pub mod add;
pub mod get;

use aide::axum::{
    ApiRouter,
    routing::{get_with, post_with},
};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

use crate::{response::Resource, schema::UlidSchema};

/// A login token, as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LoginToken {
    #[serde(skip)]
    id: Ulid,
    /// The user it signs in.
    #[schemars(with = "UlidSchema")]
    pub user_id: Ulid,
    /// The only device it may sign in, if any.
    pub device_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it was redeemed, if it was.
    pub consumed_at: Option<DateTime<Utc>>,
    /// The compatibility session it started.
    #[schemars(with = "Option<UlidSchema>")]
    pub compat_session_id: Option<Ulid>,
    /// The token, in the answer that created it only: redeem it with `m.login.token` at
    /// `/_matrix/client/v3/login`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_token: Option<String>,
}

impl LoginToken {
    fn new(token: portcullis_model::CompatLoginToken, login_token: Option<String>) -> Self {
        Self {
            id: token.id,
            user_id: token.user_id,
            device_id: token.device_id,
            created_at: token.created_at,
            expires_at: token.expires_at,
            consumed_at: token.consumed_at,
            compat_session_id: token.compat_session_id,
            login_token,
        }
    }
}

impl Resource for LoginToken {
    const KIND: &'static str = "login-token";
    const PATH: &'static str = "/api/admin/v1/login-tokens";

    fn id(&self) -> Ulid {
        self.id
    }
}

pub fn routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    router
        .api_route(
            "/api/admin/v1/users/{id}/login-tokens",
            post_with(add::handler, add::doc),
        )
        .api_route(
            "/api/admin/v1/login-tokens/{id}",
            get_with(get::handler, get::doc),
        )
}
