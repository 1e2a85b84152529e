//! `POST /upstream/backchannel-logout/{provider_id}`: the provider's back-channel logout
//! (OpenID Connect Back-Channel Logout 1.0 §2.5): a form with a `logout_token`. 200 when it
//! validates (whatever `on_backchannel_logout` then does); otherwise an OAuth error: 400
//! `invalid_request` for a token refused or missing, 404 for an unknown or disabled provider,
//! 503 `temporarily_unavailable` when the provider's metadata cannot be read. Never cached.

use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use portcullis_oauth::{ClientError, ErrorCode};
use portcullis_services::upstream_logout::{self, BackchannelError};
use portcullis_storage::StorageError;
use serde::Deserialize;

use crate::{AppState, oauth::reply};

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    logout_token: Option<String>,
}

pub async fn post(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    Form(form): Form<LogoutForm>,
) -> Response {
    let refuse = |code: ErrorCode, description: &str| {
        reply::error(&ClientError::new(code).with_description(description))
    };
    let Some(token) = form.logout_token.filter(|token| !token.is_empty()) else {
        return refuse(
            ErrorCode::InvalidRequest,
            "the logout_token parameter is missing",
        );
    };
    let loaded = async {
        let mut repo = state.database().read_transaction().await?;
        let provider = portcullis_services::upstream_sign_in::provider(
            &mut *repo,
            state.encrypter(),
            &provider_id,
        )
        .await?;
        repo.rollback().await?;
        Ok::<_, StorageError>(provider)
    }
    .await;
    let provider = match loaded {
        Ok(Ok(provider)) => provider,
        Ok(Err(problem)) => {
            let error =
                ClientError::new(ErrorCode::InvalidRequest).with_description(problem.to_string());
            return reply::no_store_json(StatusCode::NOT_FOUND, &error);
        }
        Err(error) => return reply::Internal::from(error).response("backchannel-logout"),
    };
    let ended = upstream_logout::backchannel_logout(
        state.database(),
        state.upstream(),
        &provider,
        &token,
        state.now(),
    )
    .await;
    match ended {
        Ok(ended) => {
            let who = ended.logged_out.as_ref();
            tracing::info!(
                provider = %provider.config.id,
                sub = who.and_then(|who| who.sub.as_deref()).unwrap_or_default(),
                sid = who.and_then(|who| who.sid.as_deref()).unwrap_or_default(),
                on_backchannel_logout = ?provider.config.on_backchannel_logout,
                browser_sessions = ended.browser_sessions,
                client_sessions = ended.client_sessions,
                "back-channel logout from an upstream provider"
            );
            reply::no_store_json(StatusCode::OK, &serde_json::json!({}))
        }
        Err(BackchannelError::Storage(error)) => {
            reply::Internal::from(error).response("backchannel-logout")
        }
        Err(BackchannelError::Metadata(error)) => {
            tracing::warn!(provider = %provider.config.id, %error, "back-channel logout: the provider's metadata cannot be read");
            refuse(
                ErrorCode::TemporarilyUnavailable,
                "the provider's metadata cannot be read now",
            )
        }
        Err(error) => {
            tracing::info!(provider = %provider.config.id, %error, "back-channel logout refused");
            refuse(ErrorCode::InvalidRequest, &error.to_string())
        }
    }
}
