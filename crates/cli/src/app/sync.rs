//! `config sync`: the static clients and upstream providers of the file, written to the
//! database, so every process (and the admin API) sees the same ones.

use std::fmt;

use chrono::{DateTime, Utc};
use portcullis_config::{
    Config,
    sections::clients::{ClientAuthMethod as ConfigAuthMethod, ClientConfig},
};
use portcullis_keys::Encrypter;
use portcullis_model::{OAuthClient, UpstreamProvider};
use portcullis_oauth::{registration::ClientAuthMethod, requests::GrantType};
use portcullis_storage::{BoxRepository, StorageError};
use ulid::Ulid;

/// Grants a static client may use: all of them, as in MAS (the client is trusted: it is in
/// the operator's own file).
const STATIC_CLIENT_GRANT_TYPES: &[GrantType] = &[
    GrantType::AuthorizationCode,
    GrantType::RefreshToken,
    GrantType::ClientCredentials,
    GrantType::DeviceCode,
];

/// What a sync did, or would do with `--dry-run`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub changes: Vec<Change>,
}

/// One change, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    AddClient(String),
    UpdateClient(String),
    DeleteClient(String),
    KeepClientNotInFile(String),
    AddProvider(String),
    UpdateProvider(String),
    DisableProvider(String),
    DeleteProvider(String),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AddClient(id) => write!(f, "add client {id}"),
            Self::UpdateClient(id) => write!(f, "update client {id}"),
            Self::DeleteClient(id) => write!(f, "delete client {id} (no longer in the file)"),
            Self::KeepClientNotInFile(id) => {
                write!(
                    f,
                    "keep client {id}, no longer in the file (use --prune to delete it)"
                )
            }
            Self::AddProvider(id) => write!(f, "add upstream provider {id}"),
            Self::UpdateProvider(id) => write!(f, "update upstream provider {id}"),
            Self::DisableProvider(id) => {
                write!(
                    f,
                    "disable upstream provider {id}, no longer in the file (use --prune to delete it)"
                )
            }
            Self::DeleteProvider(id) => {
                write!(f, "delete upstream provider {id} (no longer in the file)")
            }
        }
    }
}

/// Errors of a sync.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot read the secret of {what}: {source}")]
    ReadSecret {
        what: String,
        source: std::io::Error,
    },
    #[error("cannot represent upstream provider settings: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// Brings the database in line with the file, inside `repository` (the caller commits, or
/// rolls back for a dry run).
pub async fn sync(
    repository: &mut BoxRepository,
    config: &Config,
    encrypter: &Encrypter,
    prune: bool,
    now: DateTime<Utc>,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    sync_clients(
        repository,
        &config.clients,
        encrypter,
        prune,
        now,
        &mut report,
    )
    .await?;
    sync_providers(repository, config, encrypter, prune, now, &mut report).await?;
    Ok(report)
}

async fn sync_clients(
    repository: &mut BoxRepository,
    clients: &[ClientConfig],
    encrypter: &Encrypter,
    prune: bool,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let existing = repository.oauth_clients().list_static().await?;

    for client in clients {
        let secret = client
            .client_secret()
            .map(|source| source.read_string())
            .transpose()
            .map_err(|source| SyncError::ReadSecret {
                what: format!("client {}", client.client_id),
                source,
            })?;
        let current = existing.iter().find(|c| c.client_id == client.client_id);
        let wanted = static_client(client, secret.as_deref(), current, encrypter, now);
        match current {
            None => report
                .changes
                .push(Change::AddClient(client.client_id.clone())),
            Some(current) if !same_client(current, &wanted, encrypter) => {
                report
                    .changes
                    .push(Change::UpdateClient(client.client_id.clone()));
            }
            Some(_) => continue,
        }
        repository.oauth_clients().upsert_static(&wanted).await?;
    }

    for stale in existing
        .iter()
        .filter(|c| !clients.iter().any(|k| k.client_id == c.client_id))
    {
        if prune {
            repository.oauth_clients().delete(stale.id).await?;
            report
                .changes
                .push(Change::DeleteClient(stale.client_id.clone()));
        } else {
            report
                .changes
                .push(Change::KeepClientNotInFile(stale.client_id.clone()));
        }
    }
    Ok(())
}

fn static_client(
    client: &ClientConfig,
    secret: Option<&str>,
    current: Option<&OAuthClient>,
    encrypter: &Encrypter,
    now: DateTime<Utc>,
) -> OAuthClient {
    OAuthClient {
        id: current.map_or_else(Ulid::new, |c| c.id),
        client_id: client.client_id.clone(),
        is_static: true,
        client_auth_method: auth_method(client.client_auth_method),
        // Stored encrypted: the database alone must not give away client secrets.
        encrypted_client_secret: secret
            .map(|s| encrypter.encrypt(s.trim_end_matches(['\r', '\n']).as_bytes())),
        redirect_uris: client.redirect_uris.clone(),
        client_name: client.client_name.clone(),
        client_uri: client.client_uri.as_ref().map(ToString::to_string),
        jwks: client.jwks.clone(),
        jwks_uri: client.jwks_uri.clone(),
        grant_types: STATIC_CLIENT_GRANT_TYPES.to_vec(),
        created_at: current.map_or(now, |c| c.created_at),
        ..OAuthClient::default()
    }
}

/// Equal in everything that matters; secrets are compared decrypted, since each encryption
/// uses a fresh nonce.
fn same_client(a: &OAuthClient, b: &OAuthClient, encrypter: &Encrypter) -> bool {
    let secret = |c: &OAuthClient| {
        c.encrypted_client_secret
            .as_deref()
            .map(|s| encrypter.decrypt(s).ok())
    };
    a.client_id == b.client_id
        && a.client_auth_method == b.client_auth_method
        && a.redirect_uris == b.redirect_uris
        && a.client_name == b.client_name
        && a.client_uri == b.client_uri
        && a.jwks == b.jwks
        && a.jwks_uri == b.jwks_uri
        && a.grant_types == b.grant_types
        && secret(a) == secret(b)
}

async fn sync_providers(
    repository: &mut BoxRepository,
    config: &Config,
    encrypter: &Encrypter,
    prune: bool,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let existing = repository.upstream_providers().list().await?;
    let configured = &config.upstream_oauth2.providers;

    for provider in configured {
        // Every setting is kept as JSON (later features read them from there), except the
        // client secret, which is kept apart and encrypted.
        let mut settings = serde_json::to_value(provider)?;
        // Sign in with Apple signs with a private key instead of sending a secret (the method
        // excludes a client secret): the key is kept, encrypted, in the secret's place.
        let source = provider.client_secret().or_else(|| {
            provider
                .sign_in_with_apple
                .as_ref()
                .and_then(|apple| apple.private_key())
        });
        let secret = match source {
            Some(source) => Some(
                source
                    .read_string()
                    .map_err(|source| SyncError::ReadSecret {
                        what: format!("upstream provider {}", provider.id),
                        source,
                    })?,
            ),
            None => None,
        };
        if let Some(object) = settings.as_object_mut() {
            object.remove("client_secret");
            object.remove("client_secret_file");
            if let Some(apple) = object
                .get_mut("sign_in_with_apple")
                .and_then(serde_json::Value::as_object_mut)
            {
                apple.remove("private_key");
                apple.remove("private_key_file");
            }
        }
        let current = existing.iter().find(|p| p.id == provider.id);
        let wanted = UpstreamProvider {
            id: provider.id.clone(),
            issuer: provider.issuer.as_ref().map(ToString::to_string),
            human_name: provider.human_name.clone(),
            brand_name: provider.brand_name.clone(),
            encrypted_client_secret: secret
                .map(|s| encrypter.encrypt(s.trim_end_matches(['\r', '\n']).as_bytes())),
            config: settings,
            created_at: current.map_or(now, |p| p.created_at),
            disabled_at: None,
        };
        match current {
            None => report
                .changes
                .push(Change::AddProvider(provider.id.clone())),
            Some(current) if !same_provider(current, &wanted, encrypter) => {
                report
                    .changes
                    .push(Change::UpdateProvider(provider.id.clone()));
            }
            Some(_) => continue,
        }
        repository.upstream_providers().upsert(&wanted).await?;
    }

    for stale in existing
        .iter()
        .filter(|p| !configured.iter().any(|c| c.id == p.id))
    {
        if prune {
            repository.upstream_providers().delete(&stale.id).await?;
            report
                .changes
                .push(Change::DeleteProvider(stale.id.clone()));
        } else if stale.is_enabled() {
            repository
                .upstream_providers()
                .disable(&stale.id, now)
                .await?;
            report
                .changes
                .push(Change::DisableProvider(stale.id.clone()));
        }
    }
    Ok(())
}

fn same_provider(a: &UpstreamProvider, b: &UpstreamProvider, encrypter: &Encrypter) -> bool {
    let secret = |p: &UpstreamProvider| {
        p.encrypted_client_secret
            .as_deref()
            .map(|s| encrypter.decrypt(s).ok())
    };
    a.issuer == b.issuer
        && a.human_name == b.human_name
        && a.brand_name == b.brand_name
        && a.config == b.config
        && a.disabled_at == b.disabled_at
        && secret(a) == secret(b)
}

/// The name a value has in the configuration file.
/// The configuration's name of an authentication method, as the protocol's.
fn auth_method(method: ConfigAuthMethod) -> ClientAuthMethod {
    match method {
        ConfigAuthMethod::None => ClientAuthMethod::None,
        ConfigAuthMethod::ClientSecretBasic => ClientAuthMethod::ClientSecretBasic,
        ConfigAuthMethod::ClientSecretPost => ClientAuthMethod::ClientSecretPost,
        ConfigAuthMethod::ClientSecretJwt => ClientAuthMethod::ClientSecretJwt,
        ConfigAuthMethod::PrivateKeyJwt => ClientAuthMethod::PrivateKeyJwt,
    }
}
