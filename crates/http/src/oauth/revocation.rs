//! `POST /oauth2/revoke`: token revocation (RFC 7009).
//!
//! Revoking an access or a refresh token ends its whole session, as in the reference
//! implementation: a Matrix client signing out wants its device gone, not one token.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use portcullis_oauth::{
    ClientError, ErrorCode,
    requests::RevocationRequest,
    token::{TokenKind, TokenType},
};
use portcullis_services::sessions;
use portcullis_storage::StorageError;

use super::{
    client_auth::{self, ClientAuthFailure},
    reply::{self, Internal, OAuthForm},
};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/oauth2/revoke", post(post_revoke))
}

async fn post_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    OAuthForm(request): OAuthForm<RevocationRequest>,
) -> Response {
    match revoke(&state, &headers, &request).await {
        // RFC 7009 §2.2: 200, whose body the client ignores.
        Ok(()) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

async fn revoke(
    state: &AppState,
    headers: &HeaderMap,
    request: &RevocationRequest,
) -> Result<(), RevocationError> {
    let credentials = client_auth::credentials(headers, &request.client)?;
    let client =
        client_auth::authenticate(state, &credentials, &state.urls().revocation_endpoint()).await?;

    // RFC 7009 §2.2: "invalid tokens do not cause an error response", since the client's goal,
    // that the token be unusable, is met. The hint is only a hint (§2.1): the token's prefix
    // says what it is.
    let Ok(kind) = TokenKind::detect(&request.token) else {
        return Ok(());
    };
    let now = state.now();
    let mut repo = state.database().transaction().await?;
    let session_id = match kind {
        TokenKind::Ours(TokenType::AccessToken) => repo
            .oauth_access_tokens()
            .find_by_token(&request.token)
            .await?
            .map(|token| token.session_id),
        TokenKind::Ours(TokenType::RefreshToken) => repo
            .oauth_refresh_tokens()
            .find_by_token(&request.token)
            .await?
            .map(|token| token.session_id),
        // Compatibility and personal tokens are not OAuth tokens of a client: unknown here, as
        // in the reference implementation.
        _ => None,
    };
    let Some(session_id) = session_id else {
        return Ok(());
    };
    let Some(session) = repo.oauth_sessions().find(session_id).await? else {
        return Ok(());
    };
    if session.client_id != client.id {
        return Err(RevocationError::OtherClient);
    }
    sessions::end_oauth_session(&mut *repo, &session, now).await?;
    repo.commit().await?;
    tracing::info!(client.id = %client.client_id, session.id = %session.id, "session ended by token revocation");
    Ok(())
}

/// Why a revocation is refused.
#[derive(Debug)]
pub enum RevocationError {
    /// The client did not authenticate.
    ClientAuth(ClientAuthFailure),
    /// The token belongs to a session of another client.
    OtherClient,
    /// Our fault.
    Internal(Internal),
}

impl From<ClientAuthFailure> for RevocationError {
    fn from(failure: ClientAuthFailure) -> Self {
        Self::ClientAuth(failure)
    }
}

impl From<StorageError> for RevocationError {
    fn from(error: StorageError) -> Self {
        Self::Internal(error.into())
    }
}

impl IntoResponse for RevocationError {
    fn into_response(self) -> Response {
        match self {
            Self::ClientAuth(failure) => failure.response("revocation"),
            Self::Internal(internal) => internal.response("revocation"),
            // RFC 7009 §2.1: the server checks "whether the token was issued to the client
            // making the revocation request"; RFC 6749 §5.2 names the refusal.
            Self::OtherClient => reply::error(
                &ClientError::new(ErrorCode::UnauthorizedClient)
                    .with_description("the token was issued to another client"),
            ),
        }
    }
}
