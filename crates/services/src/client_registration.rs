//! Dynamic client registration (RFC 7591, MSC2966): storing the client whose metadata the
//! `oauth` crate verified.

use chrono::{DateTime, Utc};
use portcullis_keys::Encrypter;
use portcullis_model::OAuthClient;
use portcullis_oauth::{
    registration::{ClientMetadata, VerifiedClientMetadata},
    requests::GrantType,
    token::generate_code,
};
use portcullis_storage::{RepositoryFactory, StorageError};
use rand::RngCore;
use sha2::{Digest as _, Sha256};
use ulid::Ulid;

/// Asks the policy (`client_registration/violation`) about `metadata` as the client posted it:
/// which sites and schemes a client may use (MSC2966), relaxed by
/// `policy.data.client_registration`.
#[must_use]
pub fn policy_decision(
    policy: &portcullis_policy::Policy,
    metadata: &ClientMetadata,
    requester: &portcullis_policy::Requester,
) -> crate::policy::Decision {
    let client_metadata = serde_json::to_value(metadata).unwrap_or_default();
    policy
        .evaluate_client_registration(&portcullis_policy::ClientRegistrationInput {
            client_metadata: &client_metadata,
            requester,
        })
        .into()
}

/// The error a client gets when the policy refuses its metadata (RFC 7591 §3.2.2):
/// `invalid_redirect_uri` when only redirect URIs are at fault, `invalid_client_metadata`
/// otherwise (a wrong `client_uri` puts every redirect URI off its site too), each violation
/// described with its field, the others before the redirect URIs.
#[must_use]
pub fn refusal(verdict: &portcullis_policy::Verdict) -> portcullis_oauth::ClientError {
    use portcullis_oauth::ErrorCode;
    let is_redirect = |violation: &&portcullis_policy::Violation| {
        violation.redirect_uri.is_some()
            || violation
                .field
                .as_deref()
                .is_some_and(|field| field.starts_with("redirect_uris"))
    };
    let (redirects, others): (Vec<_>, Vec<_>) = verdict.violations.iter().partition(is_redirect);
    let code = if others.is_empty() {
        ErrorCode::InvalidRedirectUri
    } else {
        ErrorCode::InvalidClientMetadata
    };
    let description = others
        .iter()
        .chain(&redirects)
        .map(|violation| violation.msg.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    portcullis_oauth::ClientError::new(code).with_description(description)
}

/// A registered client, as the answer describes it.
#[derive(Debug)]
pub struct Registered {
    /// Its `client_id`.
    pub client_id: String,
    /// When it was registered.
    pub issued_at: DateTime<Utc>,
    /// Its secret in clear, for a confidential client: told once, never again.
    pub secret: Option<String>,
    /// The metadata as registered.
    pub metadata: ClientMetadata,
}

/// Registers a client with `verified` metadata (RFC 7591 §3.2): a public client that
/// registers the same metadata again gets the same client back; a confidential one gets a new
/// secret, stored encrypted.
///
/// # Errors
/// When storage fails.
pub async fn register(
    repositories: &dyn RepositoryFactory,
    encrypter: &Encrypter,
    device_code_grant_enabled: bool,
    mut verified: VerifiedClientMetadata,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<Registered, StorageError> {
    // A grant the server does not offer is dropped rather than refused, as MAS does, so a
    // client asking for everything still registers.
    if !device_code_grant_enabled {
        verified
            .grant_types
            .retain(|grant| *grant != GrantType::DeviceCode);
    }
    let auth_method = verified.token_endpoint_auth_method;
    let secret = auth_method
        .uses_client_secret()
        .then(|| generate_code(rng, 32));
    let echo = verified.to_metadata();
    let digest = secret.is_none().then(|| metadata_digest(&echo));

    let mut repository = repositories.transaction().await?;
    if let Some(digest) = &digest
        && let Some(existing) = repository
            .oauth_clients()
            .find_dynamic_by_metadata_digest(digest)
            .await?
    {
        repository.rollback().await?;
        return Ok(Registered {
            client_id: existing.client_id,
            issued_at: existing.created_at,
            secret: None,
            metadata: echo,
        });
    }

    let localized = verified
        .client_name
        .by_language
        .iter()
        .map(|(lang, name)| (format!("client_name#{lang}"), name.clone()))
        .chain(
            verified
                .logo_uri
                .by_language
                .iter()
                .map(|(lang, uri)| (format!("logo_uri#{lang}"), uri.to_string())),
        )
        .chain(
            verified
                .client_uri_localized
                .iter()
                .map(|(lang, uri)| (format!("client_uri#{lang}"), uri.to_string())),
        )
        .chain(
            verified
                .policy_uri
                .by_language
                .iter()
                .map(|(lang, uri)| (format!("policy_uri#{lang}"), uri.to_string())),
        )
        .chain(
            verified
                .tos_uri
                .by_language
                .iter()
                .map(|(lang, uri)| (format!("tos_uri#{lang}"), uri.to_string())),
        )
        .collect();
    // The ULID of the instant, with its random part from our random source.
    let id = Ulid::from_parts(
        u64::try_from(now.timestamp_millis()).unwrap_or_default(),
        rand::Rng::r#gen(rng),
    );
    let client = OAuthClient {
        id,
        client_id: id.to_string(),
        is_static: false,
        client_auth_method: auth_method,
        // Kept encrypted: the database alone must not give client secrets away.
        encrypted_client_secret: secret.as_ref().map(|s| encrypter.encrypt(s.as_bytes())),
        redirect_uris: verified.redirect_uris.clone(),
        client_name: verified.client_name.default.clone(),
        client_uri: verified.client_uri.as_ref().map(ToString::to_string),
        jwks: verified.jwks.clone(),
        jwks_uri: verified.jwks_uri.clone(),
        grant_types: verified.grant_types.clone(),
        created_at: now,
        metadata_digest: digest,
        application_type: Some(verified.application_type),
        response_types: verified.response_types.clone(),
        logo_uri: verified.logo_uri.default.as_ref().map(ToString::to_string),
        policy_uri: verified
            .policy_uri
            .default
            .as_ref()
            .map(ToString::to_string),
        tos_uri: verified.tos_uri.default.as_ref().map(ToString::to_string),
        contacts: verified.contacts.clone(),
        token_endpoint_auth_signing_alg: verified.token_endpoint_auth_signing_alg.clone(),
        id_token_signed_response_alg: verified.id_token_signed_response_alg.clone(),
        userinfo_signed_response_alg: verified.userinfo_signed_response_alg.clone(),
        post_logout_redirect_uris: verified.post_logout_redirect_uris.clone(),
        localized,
    };
    let client = repository.oauth_clients().add_dynamic(&client).await?;
    repository.commit().await?;
    tracing::info!(client.id = %client.client_id, "dynamic client registered");
    Ok(Registered {
        client_id: client.client_id,
        issued_at: client.created_at,
        secret,
        metadata: echo,
    })
}

/// The SHA-256 of the canonical JSON of the registered metadata (object keys sorted, as
/// serde_json's default map sorts them).
fn metadata_digest(metadata: &ClientMetadata) -> String {
    let canonical = serde_json::to_value(metadata)
        .map(|v| v.to_string())
        .unwrap_or_default();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}
