//! `POST /oauth2/device`: the device authorization endpoint (RFC 8628 §3.1–3.2).
//!
//! A device authenticates as its client and names a scope; it gets a device code to poll the
//! token endpoint with and a user code to show. Nobody has signed in yet, so the scope is only
//! checked for its shape here; the rights of the user are checked when they approve at
//! `/device/{id}`.

use std::net::IpAddr;

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use portcullis_oauth::{
    ClientError, ErrorCode, ToClientError as _,
    requests::{
        DeviceAuthorizationParams, DeviceAuthorizationRequest, DeviceAuthorizationResponse,
    },
};
use portcullis_services::device_grant::{self, Requester, StartError, Started};
use portcullis_storage::StorageError;

use crate::{
    AppState,
    client_ip::ClientIp,
    oauth::{
        client_auth::{self, ClientAuthFailure},
        reply::{self, Internal, OAuthForm},
    },
};

pub use portcullis_services::device_grant::{GRANT_LIFETIME, POLL_INTERVAL};

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth2/device", post(post_device_authorization))
}

async fn post_device_authorization(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm<DeviceAuthorizationParams>,
) -> Response {
    reply::answer(authorize(&state, &headers, ip, &params).await)
}

async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
    params: &DeviceAuthorizationParams,
) -> Result<DeviceAuthorizationResponse, DeviceAuthorizationError> {
    // Checked before the client: an endpoint that is switched off authenticates nobody.
    if !state.site_config().device_code_grant_enabled {
        return Err(DeviceAuthorizationError::Disabled);
    }
    let credentials = client_auth::credentials(headers, &params.client)?;
    let client = client_auth::authenticate(
        state,
        &credentials,
        &state.urls().device_authorization_endpoint(),
    )
    .await?;
    let request = DeviceAuthorizationRequest::try_from(params)
        .map_err(|error| DeviceAuthorizationError::Request(error.to_client_error()))?;
    let requester = Requester {
        ip,
        user_agent: crate::requester::user_agent(headers),
    };
    let started = device_grant::start(
        state.database(),
        &client,
        &request,
        requester,
        &mut state.rng(),
        state.now(),
    )
    .await
    .map_err(|error| match error {
        StartError::UnauthorizedClient => DeviceAuthorizationError::UnauthorizedClient,
        StartError::Request(error) => DeviceAuthorizationError::Request(error),
        StartError::Internal(message) => {
            DeviceAuthorizationError::Internal(Internal::from(message))
        }
        StartError::Storage(error) => DeviceAuthorizationError::Internal(Internal::from(error)),
    })?;
    tracing::info!(
        client.id = %client.client_id,
        grant.id = %started.grant.id,
        "device authorization started"
    );
    Ok(response(state, started))
}

fn response(state: &AppState, started: Started) -> DeviceAuthorizationResponse {
    let verification_uri = state.urls().device_link();
    // As MAS: the link with the code in it (which a QR code can carry) is offered only when
    // the operator chose it, since it spares the user from comparing the code.
    let verification_uri_complete = state
        .site_config()
        .device_code_user_code_auto_fill_enabled
        .then(|| {
            let mut complete = verification_uri.clone();
            complete
                .query_pairs_mut()
                .append_pair("code", &started.user_code.to_string());
            complete
        });
    DeviceAuthorizationResponse {
        device_code: started.device_code,
        user_code: started.user_code,
        verification_uri,
        verification_uri_complete,
        expires_in: (started.grant.expires_at - started.grant.created_at)
            .num_seconds()
            .unsigned_abs(),
        interval: Some(POLL_INTERVAL.num_seconds().unsigned_abs()),
    }
}

/// Why the device authorization endpoint refuses a request.
#[derive(Debug)]
pub enum DeviceAuthorizationError {
    /// `oauth.device_code_grant_enabled` is off.
    Disabled,
    /// The client did not authenticate (401 `invalid_client`).
    ClientAuth(ClientAuthFailure),
    /// The client did not register the device code grant.
    UnauthorizedClient,
    /// The request is malformed or its scope is not allowed, as the protocol crate judged it.
    Request(ClientError),
    /// Our fault.
    Internal(Internal),
}

impl From<ClientAuthFailure> for DeviceAuthorizationError {
    fn from(failure: ClientAuthFailure) -> Self {
        Self::ClientAuth(failure)
    }
}

impl From<Internal> for DeviceAuthorizationError {
    fn from(error: Internal) -> Self {
        Self::Internal(error)
    }
}

impl From<StorageError> for DeviceAuthorizationError {
    fn from(error: StorageError) -> Self {
        Self::Internal(error.into())
    }
}

impl IntoResponse for DeviceAuthorizationError {
    fn into_response(self) -> Response {
        match self {
            // Not offered, so not found (discovery does not advertise it either); the body
            // still says why in OAuth terms for the client developer.
            Self::Disabled => reply::no_store_json(
                StatusCode::NOT_FOUND,
                &ClientError::new(ErrorCode::UnsupportedGrantType)
                    .with_description("the device authorization grant is disabled on this server"),
            ),
            Self::ClientAuth(failure) => failure.response("device authorization"),
            Self::UnauthorizedClient => reply::error(
                &ClientError::new(ErrorCode::UnauthorizedClient)
                    .with_description("the client is not allowed to use the device code grant"),
            ),
            Self::Request(error) => reply::error(&error),
            Self::Internal(internal) => internal.response("device authorization"),
        }
    }
}
