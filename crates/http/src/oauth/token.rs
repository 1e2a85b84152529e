//! `POST /oauth2/token`: the token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6).
//!
//! The handler authenticates the client, parses the request and hands it to the module of its
//! grant. Every answer is JSON with `Cache-Control: no-store` and `Pragma: no-cache`
//! (RFC 6749 §5.1), and every error an RFC 6749 §5.2 body.

use std::net::IpAddr;

use axum::{
    Router,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::post,
};
use portcullis_oauth::{
    ClientError, ErrorCode, ToClientError as _,
    requests::{AccessTokenResponse, TokenParams, TokenRequest},
};
use portcullis_services::tokens::{
    TokenError, authorization_code, client_credentials, device_code, refresh_token,
};

use super::{
    client_auth::{self, ClientAuthFailure},
    reply::{self, Internal, OAuthForm},
};
use crate::{AppState, client_ip::ClientIp};

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth2/token", post(post_token))
}

async fn post_token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm<TokenParams>,
) -> Response {
    let answer = token(&state, ip, &headers, &params).await;
    crate::telemetry::token(params.grant_type.as_deref(), answer.is_ok());
    reply::answer(answer)
}

async fn token(
    state: &AppState,
    ip: Option<IpAddr>,
    headers: &HeaderMap,
    params: &TokenParams,
) -> Result<AccessTokenResponse, TokenEndpointError> {
    let credentials = client_auth::credentials(headers, &params.client)?;
    let client =
        client_auth::authenticate(state, &credentials, &state.urls().token_endpoint()).await?;
    crate::telemetry::record_client(&client.client_id);
    let request = TokenRequest::try_from(params)
        .map_err(|error| TokenEndpointError::Token(TokenError::Request(error.to_client_error())))?;

    // Switched off, the device grant is one we do not serve, whatever the client registered.
    if let TokenRequest::DeviceCode { .. } = request
        && !state.site_config().device_code_grant_enabled
    {
        return Err(TokenEndpointError::UnsupportedGrantType);
    }
    // RFC 6749 §5.2: a client may only use the grants it registered.
    if !client.has_grant(request.grant_type()) {
        return Err(TokenEndpointError::Token(TokenError::UnauthorizedClient(
            "the client is not allowed to use this grant type",
        )));
    }

    let mut issuer = state.token_issuer();
    let issued = match request {
        TokenRequest::AuthorizationCode {
            code,
            code_verifier,
            ..
        } => {
            // The redirect URI is compared as sent, not as parsed: RFC 6749 §4.1.3 asks for the
            // same value as in the authorization request.
            let request = authorization_code::CodeRequest {
                code: &code,
                redirect_uri: params.redirect_uri.as_deref(),
                code_verifier: code_verifier.as_deref(),
            };
            authorization_code::exchange(&mut issuer, &client, &request).await
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
        } => refresh_token::refresh(&mut issuer, &client, &refresh_token, scope.as_ref(), ip).await,
        TokenRequest::ClientCredentials { scope } => {
            let requester = AppState::requester(ip, crate::requester::user_agent(headers));
            client_credentials::grant(&mut issuer, &client, &scope, &requester).await
        }
        TokenRequest::DeviceCode { device_code } => {
            device_code::exchange(&mut issuer, &client, &device_code).await
        }
    };
    issued.map_err(TokenEndpointError::Token)
}

/// Why the token endpoint refuses a request.
#[derive(Debug)]
pub enum TokenEndpointError {
    /// The client did not authenticate (401 `invalid_client`).
    ClientAuth(ClientAuthFailure),
    /// The grant type is not one we serve.
    UnsupportedGrantType,
    /// The grant gave nothing.
    Token(TokenError),
    /// Our fault.
    Internal(Internal),
}

impl From<ClientAuthFailure> for TokenEndpointError {
    fn from(failure: ClientAuthFailure) -> Self {
        Self::ClientAuth(failure)
    }
}

impl IntoResponse for TokenEndpointError {
    fn into_response(self) -> Response {
        let error = match self {
            Self::ClientAuth(failure) => return failure.response("token"),
            Self::Internal(internal) => return internal.response("token"),
            Self::UnsupportedGrantType => {
                return reply::error(
                    &ClientError::new(ErrorCode::UnsupportedGrantType)
                        .with_description("this grant type is not supported"),
                );
            }
            Self::Token(error) => error,
        };
        let (code, description) = match error {
            TokenError::Internal(message) => return Internal::from(message).response("token"),
            TokenError::Storage(error) => return Internal::from(error).response("token"),
            TokenError::Request(error) => return reply::error(&error),
            TokenError::Homeserver(error) => {
                tracing::error!(error = %error, "cannot create the device on the homeserver");
                return reply::error(
                    &ClientError::new(ErrorCode::TemporarilyUnavailable).with_description(
                        "the homeserver cannot be reached to set up this device; try again later",
                    ),
                );
            }
            TokenError::UnauthorizedClient(why) => (ErrorCode::UnauthorizedClient, why.to_owned()),
            TokenError::InvalidGrant(why) => (ErrorCode::InvalidGrant, why.to_owned()),
            TokenError::InvalidScope(why) => (ErrorCode::InvalidScope, why),
            TokenError::AuthorizationPending => (
                ErrorCode::AuthorizationPending,
                "the user has not approved this device yet".to_owned(),
            ),
            TokenError::SlowDown => (
                ErrorCode::SlowDown,
                "polling too often; wait 5 seconds more between polls".to_owned(),
            ),
            TokenError::AccessDenied => (
                ErrorCode::AccessDenied,
                "the user refused this device".to_owned(),
            ),
            TokenError::ExpiredToken => (
                ErrorCode::ExpiredToken,
                "the device code expired; start again".to_owned(),
            ),
        };
        reply::error(&ClientError::new(code).with_description(description))
    }
}
