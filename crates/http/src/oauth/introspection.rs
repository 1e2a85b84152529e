//! `POST /oauth2/introspect`: token introspection (RFC 7662), the way the homeserver learns
//! who a Matrix access token belongs to.
//!
//! The caller is the homeserver, with `Authorization: Bearer <matrix.secret>`, or a
//! confidential client; what the answer says is `portcullis_services::introspection`. An access
//! token costs one indexed read and no write: its first use, which the refresh grant needs to
//! know about, is recorded after the answer, off the request's path.

use axum::{
    Router,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::post,
};
use chrono::{DateTime, Utc};
use portcullis_oauth::{
    ClientError, ErrorCode,
    requests::{IntrospectionRequest, IntrospectionResponse, TokenTypeHint},
};
use portcullis_services::introspection::{self, Introspection};
use portcullis_storage::StorageError;
use portcullis_storage_sql::Database;
use subtle::ConstantTimeEq as _;
use ulid::Ulid;

use super::{
    client_auth::{self, ClientAuthFailure},
    reply::{self, Internal, OAuthForm},
};
use crate::{AppState, requester::bearer};

/// The header with which a homeserver says it reads `device_id` from the answer, so the
/// device need not be encoded as a scope (MAS's `X-MAS-Supports-Device-Id: 1`).
const SUPPORTS_DEVICE_ID: &str = "x-mas-supports-device-id";

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth2/introspect", post(post_introspect))
}

async fn post_introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    OAuthForm(request): OAuthForm<IntrospectionRequest>,
) -> Response {
    reply::answer(introspect(&state, &headers, &request).await)
}

async fn introspect(
    state: &AppState,
    headers: &HeaderMap,
    request: &IntrospectionRequest,
) -> Result<IntrospectionResponse, IntrospectionError> {
    authenticate_caller(state, headers, request).await?;
    let with_device_id = headers
        .get(SUPPORTS_DEVICE_ID)
        .is_some_and(|value| value.as_bytes() == b"1");

    let introspected = Introspection::new(
        state.database(),
        state.activity(),
        state.access_token_cache(),
        state.now(),
    )
    .introspect(&request.token, request.token_type_hint, with_device_id)
    .await
    .map_err(|error| {
        IntrospectionError::Internal(match error {
            portcullis_services::introspection::IntrospectionError::Storage(error) => {
                Internal::from(error)
            }
            portcullis_services::introspection::IntrospectionError::Internal(message) => {
                Internal::from(message)
            }
        })
    })?;
    if let Some(token_id) = introspected.first_use {
        record_first_use(state.database().clone(), token_id, state.now());
    }
    let answer = introspected.answer;
    crate::telemetry::introspection(
        answer.active,
        answer.token_type.map(|kind| match kind {
            TokenTypeHint::AccessToken => "access_token",
            TokenTypeHint::RefreshToken => "refresh_token",
            TokenTypeHint::Unknown => "unknown",
        }),
    );
    Ok(answer)
}

/// Checks that the caller may introspect: the homeserver with its shared secret, or a
/// confidential client. RFC 7662 §2.1 requires some authorization, so that the endpoint is no
/// oracle for guessed tokens.
async fn authenticate_caller(
    state: &AppState,
    headers: &HeaderMap,
    request: &IntrospectionRequest,
) -> Result<(), IntrospectionError> {
    if let Some(presented) = bearer(headers) {
        let matches = state
            .homeserver_secret()
            .is_some_and(|secret| bool::from(secret.as_bytes().ct_eq(presented.as_bytes())));
        return if matches {
            Ok(())
        } else {
            Err(IntrospectionError::WrongHomeserverSecret)
        };
    }
    let credentials = client_auth::credentials(headers, &request.client)?;
    let client =
        client_auth::authenticate(state, &credentials, &state.urls().introspection_endpoint())
            .await?;
    // A public client proves nothing about who is asking.
    if client.is_public() {
        return Err(IntrospectionError::PublicClient);
    }
    Ok(())
}

/// Records, after the answer has gone, that the token was used.
fn record_first_use(database: Database, token_id: Ulid, now: DateTime<Utc>) {
    tokio::spawn(async move {
        if let Err(error) = introspection::record_first_use(&database, token_id, now).await {
            tracing::warn!(access_token.id = %token_id, %error, "could not record the first use of an access token");
        }
    });
}

/// Why introspection is refused (an unknown or dead token is not a refusal but
/// `{"active": false}`).
#[derive(Debug)]
pub enum IntrospectionError {
    /// A client did not authenticate.
    ClientAuth(ClientAuthFailure),
    /// A bearer credential that is not the homeserver's secret.
    WrongHomeserverSecret,
    /// Public clients may not introspect.
    PublicClient,
    /// Our fault.
    Internal(Internal),
}

impl From<ClientAuthFailure> for IntrospectionError {
    fn from(failure: ClientAuthFailure) -> Self {
        Self::ClientAuth(failure)
    }
}

impl From<StorageError> for IntrospectionError {
    fn from(error: StorageError) -> Self {
        Self::Internal(error.into())
    }
}

impl From<Internal> for IntrospectionError {
    fn from(error: Internal) -> Self {
        Self::Internal(error)
    }
}

impl IntoResponse for IntrospectionError {
    fn into_response(self) -> Response {
        let description = match self {
            Self::ClientAuth(failure) => return failure.response("introspection"),
            Self::Internal(internal) => return internal.response("introspection"),
            Self::WrongHomeserverSecret => "invalid bearer credentials",
            Self::PublicClient => "public clients may not introspect tokens",
        };
        reply::error(&ClientError::new(ErrorCode::InvalidClient).with_description(description))
    }
}
