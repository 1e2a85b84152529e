//! `/oauth2-clients`: the OAuth 2.0 clients, from the configuration or registered dynamically
//! (read only: clients are configured in the file, as in MAS).

pub mod get;
pub mod list;

use aide::axum::{ApiRouter, routing::get_with};
use portcullis_http::AppState;
use schemars::JsonSchema;
use serde::Serialize;
use ulid::Ulid;

use crate::response::Resource;

/// A client, as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OAuth2Client {
    #[serde(skip)]
    id: Ulid,
    /// Its public `client_id`.
    pub client_id: String,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    /// From the configuration (`clients`), rather than registered dynamically.
    pub is_static: bool,
}

impl From<portcullis_model::OAuthClient> for OAuth2Client {
    fn from(client: portcullis_model::OAuthClient) -> Self {
        Self {
            id: client.id,
            client_id: client.client_id,
            client_name: client.client_name,
            client_uri: client.client_uri,
            logo_uri: client.logo_uri,
            redirect_uris: client
                .redirect_uris
                .iter()
                .map(ToString::to_string)
                .collect(),
            grant_types: client
                .grant_types
                .iter()
                .map(|grant| grant.as_str().to_owned())
                .collect(),
            is_static: client.is_static,
        }
    }
}

impl Resource for OAuth2Client {
    const KIND: &'static str = "oauth2-client";
    const PATH: &'static str = "/api/admin/v1/oauth2-clients";

    fn id(&self) -> Ulid {
        self.id
    }
}

pub fn routes(router: ApiRouter<AppState>) -> ApiRouter<AppState> {
    router
        .api_route(
            "/api/admin/v1/oauth2-clients",
            get_with(list::handler, list::doc),
        )
        .api_route(
            "/api/admin/v1/oauth2-clients/{id}",
            get_with(get::handler, get::doc),
        )
}
