//! `GET /_matrix/client/{v3,r0}/login/sso/redirect[/][{idp}]`: starts a single sign-on login.
//!
//! The client opens this in a browser with `redirectUrl`, where it waits for the login token.
//! A pending login is stored and the browser sent on to our consent page
//! ([`sso_complete`](super::sso_complete)), where the user signs in and allows it. An identity
//! provider in the path that names an enabled upstream provider (by its `synapse_idp_id`, or
//! its id) sends the browser to that provider's sign-in first; any other is ignored, as in MAS.
//!
//! The login token stored here is never shown to anybody: the token the client gets is made
//! when the user allows the sign-in (see [`sso_complete`](super::sso_complete)), so no usable
//! token exists before that.

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use portcullis_services::{sso_login, upstream_sign_in};
use serde::Deserialize;
use url::Url;

use super::error::MatrixError;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct RedirectQuery {
    #[serde(rename = "redirectUrl")]
    redirect_url: Option<String>,
}

pub async fn get(State(state): State<AppState>, Query(query): Query<RedirectQuery>) -> Response {
    match start(&state, &query, None).await {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `/login/sso/redirect/{idp}`.
pub async fn get_with_idp(
    State(state): State<AppState>,
    Path(idp): Path<String>,
    Query(query): Query<RedirectQuery>,
) -> Response {
    match start(&state, &query, Some(&idp)).await {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn start(
    state: &AppState,
    query: &RedirectQuery,
    idp: Option<&str>,
) -> Result<Url, MatrixError> {
    let redirect_url = query
        .redirect_url
        .as_deref()
        .ok_or_else(|| MatrixError::missing_param("`redirectUrl` is required"))?;
    let redirect_url = sso_login::validate_redirect_url(redirect_url)
        .map_err(|error| MatrixError::invalid_param(error.to_string()))?;
    let mut repo = state.database().transaction().await?;
    let provider = match idp {
        Some(idp) => upstream_sign_in::enabled_providers(&mut *repo)
            .await?
            .into_iter()
            .find(|provider| provider.synapse_idp_id.as_deref() == Some(idp) || provider.id == idp),
        None => None,
    };
    let login = sso_login::start(&mut *repo, &redirect_url, &mut state.rng(), state.now()).await?;
    repo.commit().await?;
    tracing::info!(sso_login.id = %login.id, "single sign-on login started");
    Ok(match provider {
        // Signed in there, the user comes back to allow this login.
        Some(provider) => {
            let mut url = state.urls().upstream_authorize(&provider.id);
            url.query_pairs_mut()
                .append_pair("kind", "continue_compat_sso_login")
                .append_pair("id", &login.id.to_string());
            url
        }
        None => state.urls().compat_sso_complete(login.id),
    })
}
