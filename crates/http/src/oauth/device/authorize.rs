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
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_model::DeviceCodeGrant;
use portcullis_oauth::{
    ClientError, ErrorCode, ToClientError as _,
    requests::{
        DeviceAuthorizationParams, DeviceAuthorizationRequest, DeviceAuthorizationResponse,
        GrantType,
    },
    scope::{GrantKind, ScopeContext, check_requested_scope},
    token::{UserCode, generate_code},
};
use portcullis_storage::{NewDeviceCodeGrant, StorageError};

use crate::{
    AppState,
    client_ip::ClientIp,
    oauth::{
        client_auth::{self, ClientAuthFailure},
        reply::{self, Internal, OAuthForm},
    },
};

/// How long the device and the user have to finish. MAS uses the same; RFC 8628 leaves it to
/// the server.
pub const GRANT_LIFETIME: TimeDelta = TimeDelta::minutes(20);

/// How long a device waits between two polls (RFC 8628 §3.2 `interval`); a poll sooner than
/// this after the previous one is told to `slow_down` (RFC 8628 §3.5).
pub use portcullis_services::tokens::device_code::POLL_INTERVAL;

/// Alphanumerics in a device code: about 190 bits, like an authorization code, since it is a
/// bearer secret that polls for tokens (RFC 8628 §5.1 and §6.1: the device code must be
/// unguessable, unlike the short user code).
const DEVICE_CODE_LENGTH: usize = 32;

/// User codes are short (about 38 bits), so one may collide with the code of another pending
/// grant; a fresh pair is drawn this many times before giving up.
const USER_CODE_ATTEMPTS: usize = 5;

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth2/device", post(post_device_authorization))
}

async fn post_device_authorization(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm<DeviceAuthorizationParams>,
) -> Response {
    match authorize(&state, &headers, ip, &params).await {
        Ok(response) => reply::no_store_json(StatusCode::OK, &response),
        Err(error) => error.into_response(),
    }
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
    // RFC 8628 §3.1 with RFC 6749 §5.2: a client may only start the grants it registered.
    if !client
        .grant_types
        .iter()
        .any(|grant| grant == GrantType::DeviceCode.as_str())
    {
        return Err(DeviceAuthorizationError::UnauthorizedClient);
    }
    let request = DeviceAuthorizationRequest::try_from(params)
        .map_err(|error| DeviceAuthorizationError::Request(error.to_client_error()))?;
    // The user is not known yet: admin scopes pass here and are checked against whoever
    // approves (`device::consent`).
    let context = ScopeContext {
        grant: GrantKind::DeviceCode,
        user_can_request_admin: true,
        client_is_admin_client: false,
    };
    check_requested_scope(&request.scope, &context)
        .map_err(|violation| DeviceAuthorizationError::Request(violation.to_client_error()))?;

    let now = state.now();
    let new_grant = NewDeviceCodeGrant {
        client_id: client.id,
        scope: request.scope.to_string(),
        expires_at: now + GRANT_LIFETIME,
        ip,
        user_agent: crate::requester::user_agent(&headers).map(str::to_owned),
    };
    let started = start_grant(state, &new_grant, now).await?;
    tracing::info!(
        client.id = %client.client_id,
        grant.id = %started.grant.id,
        "device authorization started"
    );
    Ok(response(state, started))
}

/// A grant just stored, with its codes in clear (only their hashes are stored).
struct Started {
    grant: DeviceCodeGrant,
    device_code: String,
    user_code: UserCode,
}

/// Stores `new_grant` under fresh codes, drawing new ones when the user code is taken.
async fn start_grant(
    state: &AppState,
    new_grant: &NewDeviceCodeGrant,
    now: DateTime<Utc>,
) -> Result<Started, DeviceAuthorizationError> {
    for _ in 0..USER_CODE_ATTEMPTS {
        let device_code = generate_code(&mut state.rng(), DEVICE_CODE_LENGTH);
        let user_code = UserCode::generate(&mut state.rng());
        // One unit of work per attempt: on PostgreSQL a failed insert spoils its transaction.
        let mut repo = state.database().transaction().await?;
        match repo
            .oauth_device_code_grants()
            .add(new_grant, &device_code, user_code.as_str(), now)
            .await
        {
            Ok(grant) => {
                repo.commit().await?;
                return Ok(Started {
                    grant,
                    device_code,
                    user_code,
                });
            }
            Err(StorageError::Conflict(_)) => {
                repo.rollback().await?;
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(Internal::from(format!(
        "no free user code after {USER_CODE_ATTEMPTS} attempts"
    ))
    .into())
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
