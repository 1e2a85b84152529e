//! `GET /upstream/authorize/{provider_id}`: starts a sign-in at the provider.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use portcullis_services::upstream_sign_in::{self, ProviderProblem};

use crate::{
    AppState,
    cookies::CookieJar,
    human::post_auth::{FlowQuery, PostAuthAction},
    pages::tr,
};

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
    let params = match request_parameters(&state, &query).await {
        Ok(params) => params,
        Err(error) => return state.internal_error_page(&error),
    };
    let logged_out = crate::session::just_signed_out(&state, &jar);
    let started = upstream_sign_in::start(
        state.database(),
        state.upstream(),
        &provider,
        &redirect_uri,
        post_auth_action,
        &params,
        logged_out,
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

/// The parameters of the request that led here, for the provider's templates: those of the
/// client's authorization request when the sign-in continues one, and the `login_hint` of the
/// sign-in page.
async fn request_parameters(
    state: &AppState,
    query: &FlowQuery,
) -> Result<serde_json::Map<String, serde_json::Value>, portcullis_storage::StorageError> {
    let mut params = serde_json::Map::new();
    if let Some(PostAuthAction::ContinueAuthorizationGrant { id }) = query.action() {
        let mut repo = state.database().read_transaction().await?;
        let grant = repo.oauth_authorization_grants().find(id).await?;
        repo.rollback().await?;
        if let Some(serde_json::Value::Object(raw)) = grant.and_then(|grant| grant.raw_parameters) {
            params = raw;
        }
    }
    if let Some(hint) = &query.login_hint {
        params.insert(
            "login_hint".to_owned(),
            serde_json::Value::String(hint.clone()),
        );
    }
    Ok(params)
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
