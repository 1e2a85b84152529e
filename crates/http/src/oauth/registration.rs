//! `POST /oauth2/registration`: dynamic client registration (RFC 7591), with the Matrix rules
//! of MSC2966 as MAS's default policy applies them (checked by
//! [`portcullis_oauth::registration::validate`]).
//!
//! Matrix clients register themselves on first use, so a public client (no secret) registering
//! the same metadata twice gets the same client back instead of piling up duplicates.

use axum::{
    Json, Router,
    extract::{FromRequest, Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
};
use portcullis_model::OAuthClient;
use portcullis_oauth::{
    ClientError, ErrorCode,
    errors::ToClientError as _,
    registration::{ClientMetadata, VerifiedClientMetadata},
    requests::GrantType,
    token::generate_code,
};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use ulid::Ulid;

use super::reply;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth2/registration", post(post_registration))
}

/// The JSON body, with a malformed one answered as `invalid_client_metadata` (RFC 7591 §3.2.2),
/// not axum's plain-text rejection.
pub struct MetadataBody(ClientMetadata);

impl<S: Send + Sync> FromRequest<S> for MetadataBody {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<ClientMetadata>::from_request(request, state).await {
            Ok(Json(metadata)) => Ok(Self(metadata)),
            Err(rejection) => Err(reply::error(
                &ClientError::new(ErrorCode::InvalidClientMetadata)
                    .with_description(rejection.body_text()),
            )),
        }
    }
}

async fn post_registration(
    State(state): State<AppState>,
    MetadataBody(metadata): MetadataBody,
) -> Response {
    let verified = match metadata.validate() {
        Ok(verified) => verified,
        Err(error) => {
            let description = error.to_string();
            return reply::error(
                &ClientError::new(error.error_code()).with_description(description),
            );
        }
    };
    match register(&state, verified).await {
        Ok(response) => response,
        Err(error) => reply::Internal::from(error).response("registration"),
    }
}

async fn register(
    state: &AppState,
    mut verified: VerifiedClientMetadata,
) -> Result<Response, portcullis_storage::StorageError> {
    // A grant the server does not offer is dropped rather than refused, as MAS does, so a
    // client asking for everything still registers.
    if !state.site_config().device_code_grant_enabled {
        verified
            .grant_types
            .retain(|grant| *grant != GrantType::DeviceCode);
    }
    let now = state.now();
    let auth_method = verified.token_endpoint_auth_method;
    let secret = auth_method
        .uses_client_secret()
        .then(|| generate_code(&mut state.rng(), 32));
    let echo = verified.to_metadata();
    let digest = secret.is_none().then(|| metadata_digest(&echo));

    let mut repository = state.database().transaction().await?;
    if let Some(digest) = &digest
        && let Some(existing) = repository
            .oauth_clients()
            .find_dynamic_by_metadata_digest(digest)
            .await?
    {
        repository.rollback().await?;
        return Ok(answer(
            &existing.client_id,
            existing.created_at,
            None,
            &echo,
        ));
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
        rand::Rng::r#gen(&mut state.rng()),
    );
    let client = OAuthClient {
        id,
        client_id: id.to_string(),
        is_static: false,
        client_auth_method: auth_method.as_str().to_owned(),
        // Kept encrypted: the database alone must not give client secrets away.
        encrypted_client_secret: secret
            .as_ref()
            .map(|s| state.encrypter().encrypt(s.as_bytes())),
        redirect_uris: verified
            .redirect_uris
            .iter()
            .map(ToString::to_string)
            .collect(),
        client_name: verified.client_name.default.clone(),
        client_uri: Some(verified.client_uri.to_string()),
        jwks: verified.jwks.clone(),
        jwks_uri: verified.jwks_uri.as_ref().map(ToString::to_string),
        grant_types: verified
            .grant_types
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect(),
        created_at: now,
        metadata_digest: digest,
        application_type: Some(serde_name(&verified.application_type)),
        response_types: verified
            .response_types
            .iter()
            .map(ToString::to_string)
            .collect(),
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
        post_logout_redirect_uris: verified
            .post_logout_redirect_uris
            .iter()
            .map(ToString::to_string)
            .collect(),
        localized,
    };
    let client = repository.oauth_clients().add_dynamic(&client).await?;
    repository.commit().await?;
    tracing::info!(client.id = %client.client_id, "dynamic client registered");
    Ok(answer(
        &client.client_id,
        client.created_at,
        secret.as_deref(),
        &echo,
    ))
}

/// RFC 7591 §3.2.1: the metadata as registered, with the credentials.
fn answer(
    client_id: &str,
    issued_at: chrono::DateTime<chrono::Utc>,
    secret: Option<&str>,
    echo: &ClientMetadata,
) -> Response {
    let mut body = serde_json::to_value(echo).unwrap_or_else(|_| json!({}));
    if let Value::Object(fields) = &mut body {
        fields.insert("client_id".to_owned(), json!(client_id));
        fields.insert(
            "client_id_issued_at".to_owned(),
            json!(issued_at.timestamp()),
        );
        if let Some(secret) = secret {
            fields.insert("client_secret".to_owned(), json!(secret));
            // 0: the secret does not expire.
            fields.insert("client_secret_expires_at".to_owned(), json!(0));
        }
    }
    reply::no_store_json(StatusCode::CREATED, &body).into_response()
}

/// The SHA-256 of the canonical JSON of the registered metadata (object keys sorted, as
/// serde_json's default map sorts them).
fn metadata_digest(metadata: &ClientMetadata) -> String {
    let canonical = serde_json::to_value(metadata)
        .map(|v| v.to_string())
        .unwrap_or_default();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn serde_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
