//! `GET` and `POST /upstream/callback/{provider_id}`: the provider's answer.

use std::collections::BTreeMap;

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_services::upstream_sign_in::{self, CallbackError, CallbackParams};

use super::authorize::load;
use crate::{AppState, pages::tr};

pub async fn get(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Response {
    answer(&state, &provider_id, params).await
}

/// `response_mode: form_post`: the same parameters, in a form the provider's page posts. The
/// session cookie is `SameSite=Lax`, so it does not come with this cross-site POST; the
/// attempt's cookie is checked on the link page, reached by a top-level GET.
pub async fn post(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    Form(params): Form<BTreeMap<String, String>>,
) -> Response {
    answer(&state, &provider_id, params).await
}

async fn answer(
    state: &AppState,
    provider_id: &str,
    mut params: BTreeMap<String, String>,
) -> Response {
    let provider = match load(state, provider_id).await {
        Ok(provider) => provider,
        Err(response) => return response,
    };
    let callback = CallbackParams {
        state: params.remove("state"),
        code: params.remove("code"),
        error: params.remove("error"),
        error_description: params.remove("error_description"),
        extra: params
            .into_iter()
            .map(|(name, value)| (name, serde_json::Value::String(value)))
            .collect(),
    };
    let redirect_uri = state.urls().upstream_callback(&provider.config.id);
    let completed = upstream_sign_in::complete(
        state.database(),
        state.upstream(),
        state.keystore(),
        &provider,
        &redirect_uri,
        &callback,
        &mut state.rng(),
        state.now(),
    )
    .await;
    let name = super::provider_name(&provider.config);
    crate::telemetry::upstream_callback(&provider.config.id, completed.is_ok());
    match completed {
        Ok((attempt, _link)) => {
            Redirect::to(state.urls().upstream_link(attempt.id).as_str()).into_response()
        }
        Err(CallbackError::Refused { error, description }) => state.error_page(
            StatusCode::FORBIDDEN,
            tr("upstream.error.refused_title", &[]),
            tr(
                "upstream.error.refused",
                &[
                    ("provider", &name),
                    ("reason", description.as_deref().unwrap_or(&error)),
                ],
            ),
        ),
        Err(CallbackError::UnknownState | CallbackError::AlreadyUsed) => state.error_page(
            StatusCode::BAD_REQUEST,
            tr("upstream.error.expired_title", &[]),
            tr("upstream.error.expired", &[]),
        ),
        Err(CallbackError::Storage(error)) => state.internal_error_page(&error),
        Err(error) => {
            tracing::warn!(provider = %provider.config.id, %error, "upstream answer refused");
            // What the provider sent and why it is refused: for the administrators to act on
            // (the provider's own words, our checks; no secret of ours).
            state.error_page_with_details(
                StatusCode::BAD_GATEWAY,
                tr("upstream.error.provider_title", &[]),
                tr("upstream.error.provider", &[("provider", &name)]),
                Some(error.to_string()),
            )
        }
    }
}
