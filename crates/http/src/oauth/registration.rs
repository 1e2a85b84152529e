//! `POST /oauth2/registration`: dynamic client registration (RFC 7591): the protocol's rules
//! ([`portcullis_oauth::registration::validate`]), then the policy's
//! (`client_registration/violation`: the Matrix rules of MSC2966 in the built-in policy).
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
use portcullis_oauth::{
    ClientError, ErrorCode, errors::ToClientError as _, registration::ClientMetadata,
};
use portcullis_services::{
    client_registration::{self, Registered},
    policy::Decision,
};
use serde_json::{Value, json};

use super::reply;
use crate::{AppState, requester::PolicyRequester};

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
    PolicyRequester(requester): PolicyRequester,
    MetadataBody(metadata): MetadataBody,
) -> Response {
    let response = register(&state, &requester, &metadata).await;
    crate::telemetry::registration(response.status().is_success());
    response
}

async fn register(
    state: &AppState,
    requester: &portcullis_policy::Requester,
    metadata: &ClientMetadata,
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
    match client_registration::policy_decision(&state.policy(), metadata, requester) {
        Decision::Allowed => {}
        Decision::Refused(verdict) => {
            tracing::info!(reasons = %verdict.messages(), "client registration refused by the policy");
            return reply::error(&client_registration::refusal(&verdict));
        }
        Decision::Failed(_) => {
            return reply::error(
                &ClientError::new(ErrorCode::ServerError)
                    .with_description("the client registration policy could not be evaluated"),
            );
        }
    }
    let registered = client_registration::register(
        state.database(),
        state.encrypter(),
        state.site_config().device_code_grant_enabled,
        verified,
        &mut state.rng(),
        state.now(),
    )
    .await;
    match registered {
        Ok(registered) => answer(&registered),
        Err(error) => reply::Internal::from(error).response("registration"),
    }
}

/// RFC 7591 §3.2.1: the metadata as registered, with the credentials.
fn answer(registered: &Registered) -> Response {
    let mut body = serde_json::to_value(&registered.metadata).unwrap_or_else(|_| json!({}));
    if let Value::Object(fields) = &mut body {
        fields.insert("client_id".to_owned(), json!(registered.client_id));
        fields.insert(
            "client_id_issued_at".to_owned(),
            json!(registered.issued_at.timestamp()),
        );
        if let Some(secret) = &registered.secret {
            fields.insert("client_secret".to_owned(), json!(secret));
            // 0: the secret does not expire.
            fields.insert("client_secret_expires_at".to_owned(), json!(0));
        }
    }
    reply::no_store_json(StatusCode::CREATED, &body).into_response()
}
