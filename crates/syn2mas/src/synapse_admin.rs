//! Synapse's admin API, for `manage import-users` when its database is out of reach: users,
//! their addresses and external ids, and how many devices they have (a session's tokens are
//! not shown there, nor are password hashes).

use serde::Deserialize;
use url::Url;

use crate::synapse_database::{SynapseData, SynapseExternalId, SynapseThreepid, SynapseUser};

/// Why Synapse's admin API could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AdminApiError {
    #[error("{0} is not a URL the homeserver can be reached at")]
    BadUrl(String),
    #[error("cannot reach the homeserver at {url}: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    #[error(
        "the homeserver refused the admin token (HTTP {status} at {url}): give the access token \
         of a Synapse admin (`admin: true`)"
    )]
    Refused { status: u16, url: String },
    #[error("the homeserver answered HTTP {status} at {url}: {body}")]
    Failed {
        status: u16,
        url: String,
        body: String,
    },
    #[error("the homeserver's answer at {url} is not what its admin API sends: {source}")]
    Unexpected { url: String, source: reqwest::Error },
}

/// A client of `/_synapse/admin`.
pub struct SynapseAdminApi {
    client: reqwest::Client,
    base: Url,
    token: String,
}

#[derive(Deserialize)]
struct UserList {
    users: Vec<ListedUser>,
    next_token: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ListedUser {
    name: String,
}

#[derive(Deserialize)]
struct UserDetails {
    name: String,
    #[serde(default)]
    admin: Option<serde_json::Value>,
    #[serde(default)]
    deactivated: Option<serde_json::Value>,
    #[serde(default)]
    is_guest: Option<serde_json::Value>,
    #[serde(default)]
    locked: bool,
    #[serde(default)]
    creation_ts: i64,
    #[serde(default)]
    appservice_id: Option<String>,
    #[serde(default)]
    threepids: Vec<Threepid>,
    #[serde(default)]
    external_ids: Vec<ExternalId>,
}

#[derive(Deserialize)]
struct Threepid {
    medium: String,
    address: String,
    #[serde(default)]
    added_at: i64,
}

#[derive(Deserialize)]
struct ExternalId {
    auth_provider: String,
    external_id: String,
}

#[derive(Deserialize)]
struct Devices {
    #[serde(default)]
    total: usize,
}

/// Synapse answers with 0/1 or with booleans, depending on the field and the version.
fn flag(value: Option<&serde_json::Value>) -> bool {
    match value {
        Some(serde_json::Value::Bool(flag)) => *flag,
        Some(serde_json::Value::Number(number)) => number.as_i64().is_some_and(|n| n != 0),
        _ => false,
    }
}

/// What the admin API shows: the accounts, and how many devices they have.
pub struct AdminApiData {
    pub data: SynapseData,
    pub devices: usize,
}

impl SynapseAdminApi {
    /// A client of the homeserver at `homeserver_url`, with a Synapse admin's `token`.
    ///
    /// # Errors
    /// When the URL is not an http(s) URL.
    pub fn new(homeserver_url: &str, token: &str) -> Result<Self, AdminApiError> {
        let mut base =
            Url::parse(homeserver_url).map_err(|_| AdminApiError::BadUrl(homeserver_url.into()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(AdminApiError::BadUrl(homeserver_url.into()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Self {
            client: reqwest::Client::new(),
            base,
            token: token.to_owned(),
        })
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, AdminApiError> {
        let url = self
            .base
            .join(path)
            .map_err(|_| AdminApiError::BadUrl(path.to_owned()))?;
        let shown = url.to_string();
        let response = self
            .client
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|source| AdminApiError::Unreachable {
                url: shown.clone(),
                source,
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(AdminApiError::Refused {
                status: status.as_u16(),
                url: shown,
            });
        }
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(AdminApiError::Failed {
                status: status.as_u16(),
                url: shown,
                body: body.chars().take(300).collect(),
            });
        }
        response
            .json()
            .await
            .map_err(|source| AdminApiError::Unexpected { url: shown, source })
    }

    /// Reads every user (guests and deactivated ones included), with their addresses and
    /// external ids, and counts their devices. `on_user` is called after each user read.
    ///
    /// # Errors
    /// When a request fails or is refused.
    pub async fn read(
        &self,
        mut on_user: impl FnMut(usize),
    ) -> Result<AdminApiData, AdminApiError> {
        let mut data = SynapseData::default();
        let mut devices = 0;
        let mut from: Option<String> = None;
        loop {
            let mut path =
                "_synapse/admin/v2/users?limit=100&guests=true&deactivated=true".to_owned();
            if let Some(from) = &from {
                path.push_str("&from=");
                path.push_str(&encode(from));
            }
            let page: UserList = self.get(&path).await?;
            for listed in &page.users {
                let id = encode(&listed.name);
                let details: UserDetails =
                    self.get(&format!("_synapse/admin/v2/users/{id}")).await?;
                let counted: Devices = self
                    .get(&format!("_synapse/admin/v2/users/{id}/devices"))
                    .await?;
                devices += counted.total;
                data.threepids
                    .extend(details.threepids.iter().map(|threepid| SynapseThreepid {
                        user_id: details.name.clone(),
                        medium: threepid.medium.clone(),
                        address: threepid.address.clone(),
                        added_at: threepid.added_at,
                    }));
                data.external_ids
                    .extend(
                        details
                            .external_ids
                            .iter()
                            .map(|external| SynapseExternalId {
                                user_id: details.name.clone(),
                                auth_provider: external.auth_provider.clone(),
                                external_id: external.external_id.clone(),
                            }),
                    );
                // Seconds in the details of some versions, milliseconds in others.
                let creation_ts = if details.creation_ts > 100_000_000_000 {
                    details.creation_ts / 1000
                } else {
                    details.creation_ts
                };
                data.users.push(SynapseUser {
                    name: details.name,
                    password_hash: None,
                    creation_ts,
                    admin: flag(details.admin.as_ref()),
                    is_guest: flag(details.is_guest.as_ref()),
                    deactivated: flag(details.deactivated.as_ref()),
                    locked: details.locked,
                    appservice_id: details.appservice_id,
                });
                on_user(data.users.len());
            }
            from = match page.next_token {
                Some(serde_json::Value::String(token)) => Some(token),
                Some(serde_json::Value::Number(token)) => Some(token.to_string()),
                _ => None,
            };
            if from.is_none() || page.users.is_empty() {
                break;
            }
        }
        Ok(AdminApiData { data, devices })
    }
}

/// Percent-encodes a path segment or query value.
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
