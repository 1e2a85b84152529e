//! `GET /upstream/authorize/{provider_id}`: starts a sign-in at the provider.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use portcullis_services::upstream_sign_in::{self, ProviderProblem};

use crate::{AppState, cookies::CookieJar, human::post_auth::FlowQuery, pages::tr};

pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(provider_id): Path<String>,
    Query(query): Query<FlowQuery>,
) -> Response {
    let provider = match load(&state, &provider_id).await {
        Ok(provider) => provider,
        Err(response) => return response,
    };
    let post_auth_action = serde_json::to_value(&query).ok();
    let redirect_uri = state.urls().upstream_callback(&provider.config.id);
    let started = upstream_sign_in::start(
        state.database(),
        state.upstream(),
        &provider,
        &redirect_uri,
        post_auth_action,
        query.login_hint.as_deref(),
        &mut state.rng(),
        state.now(),
    )
    .await;
    match started {
        Ok((attempt, url)) => {
            let jar = super::remember(&state, jar, attempt.id);
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Err(error) => {
            tracing::warn!(provider = %provider.config.id, %error, "cannot start an upstream sign-in");
            provider_failed(&state, &provider.config)
        }
    }
}

/// The enabled provider `id`, or the page saying why there is none.
pub(super) async fn load(
    state: &AppState,
    id: &str,
) -> Result<upstream_sign_in::Provider, Response> {
    let loaded = async {
        let mut repo = state.database().read_transaction().await?;
        let provider = upstream_sign_in::provider(&mut *repo, state.encrypter(), id).await?;
        repo.rollback().await?;
        Ok::<_, portcullis_storage::StorageError>(provider)
    }
    .await;
    match loaded {
        Ok(Ok(provider)) => Ok(provider),
        Ok(Err(problem)) => {
            if let ProviderProblem::Unreadable { .. } = &problem {
                tracing::error!(%problem, "an upstream provider cannot be used");
            }
            Err(state.error_page(
                StatusCode::NOT_FOUND,
                tr("upstream.error.unavailable_title", &[]),
                tr("upstream.error.unavailable", &[("provider", id)]),
            ))
        }
        Err(error) => Err(state.internal_error_page(&error)),
    }
}

/// The page saying the provider failed on its side (the details go to the log).
pub(super) fn provider_failed(
    state: &AppState,
    config: &portcullis_config::sections::upstream_oauth2::ProviderConfig,
) -> Response {
    state.error_page(
        StatusCode::BAD_GATEWAY,
        tr("upstream.error.provider_title", &[]),
        tr(
            "upstream.error.provider",
            &[("provider", &super::provider_name(config))],
        ),
    )
}
