//! `GET` and `POST /oauth2/logout`: RP-initiated logout (OpenID Connect RP-Initiated Logout
//! 1.0), the discovery document's `end_session_endpoint`.
//!
//! An application may send the browser here to sign the user out. The user confirms (§3: the
//! provider should ask), then goes back to the application only if `post_logout_redirect_uri`
//! is one the application registered, named by a valid `id_token_hint` or `client_id`: this
//! endpoint must not become an open redirector.

use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use portcullis_model::OAuthClient;
use portcullis_services::sessions;
use portcullis_storage::StorageError;
use portcullis_templates::pages::{EndSessionPage, LoggedOutPage};
use serde::Deserialize;
use url::Url;

use crate::{AppState, cookies::CookieJar, csrf, pages::tr, session};

#[derive(Debug, Deserialize)]
pub struct EndSessionQuery {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

#[derive(Deserialize)]
pub struct EndSessionForm {
    csrf: String,
    action: String,
}

/// What the request asks, once checked.
struct Checked {
    client: Option<OAuthClient>,
    /// Where to go afterwards, with `state`: only a registered URI.
    redirect: Option<Url>,
}

pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<EndSessionQuery>,
) -> Response {
    let checked = match check(&state, &query).await {
        Ok(Ok(checked)) => checked,
        Ok(Err(page)) => return *page,
        Err(error) => return state.internal_error_page(&error),
    };
    let signed_in = match signed_in_username(&state, &jar).await {
        Ok(username) => username,
        Err(error) => return state.internal_error_page(&error),
    };
    if signed_in.is_none() {
        // Nobody to sign out: go straight back, or say so.
        return finished(&state, checked.redirect);
    }
    let (jar, token) = csrf::token(jar, state.cookie_settings(), state.now(), &mut state.rng());
    let page = EndSessionPage {
        csrf: token,
        client_name: checked
            .client
            .as_ref()
            .map(|c| c.client_name.clone().unwrap_or_else(|| c.client_id.clone())),
        username: signed_in,
    };
    (jar, state.render(StatusCode::OK, &page)).into_response()
}

pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<EndSessionQuery>,
    Form(form): Form<EndSessionForm>,
) -> Response {
    let now = state.now();
    if let Err(error) = csrf::verify(&jar, &form.csrf, now) {
        return state.error_page(
            StatusCode::FORBIDDEN,
            tr("form.error.expired_title", &[]),
            error.message(),
        );
    }
    let checked = match check(&state, &query).await {
        Ok(Ok(checked)) => checked,
        Ok(Err(page)) => return *page,
        Err(error) => return state.internal_error_page(&error),
    };
    if form.action != "logout" {
        // The user chose to stay signed in.
        return Redirect::to(state.urls().index().as_str()).into_response();
    }
    let ended = async {
        let mut repository = state.database().transaction().await?;
        if let Some(signed_in) = session::current(&jar, &mut repository).await? {
            sessions::end_browser_session(&mut *repository, &signed_in.session, now).await?;
        }
        repository.commit().await
    }
    .await;
    if let Err(error) = ended {
        return state.internal_error_page(&error);
    }
    let jar = session::forget(&state, jar);
    (jar, finished(&state, checked.redirect)).into_response()
}

fn finished(state: &AppState, redirect: Option<Url>) -> Response {
    match redirect {
        Some(url) => Redirect::to(url.as_str()).into_response(),
        None => state.render(
            StatusCode::OK,
            &LoggedOutPage {
                login_url: Some(state.urls().login().to_string()),
            },
        ),
    }
}

async fn signed_in_username(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<String>, StorageError> {
    let mut repository = state.database().transaction().await?;
    let signed_in = session::current(jar, &mut repository).await?;
    repository.rollback().await?;
    Ok(signed_in.map(|s| s.user.username))
}

/// Checks the hint, the client and the redirect URI; a problem is a page, never a redirect.
async fn check(
    state: &AppState,
    query: &EndSessionQuery,
) -> Result<Result<Checked, Box<Response>>, StorageError> {
    let refuse = |message: String| {
        Err(Box::new(state.error_page(
            StatusCode::BAD_REQUEST,
            tr("end_session.error.title", &[]),
            message,
        )))
    };

    // The hint must be an ID token we issued; it may have expired (it is only a hint).
    let hinted_client = match &query.id_token_hint {
        Some(hint) => {
            let jwks = serde_json::to_string(state.keystore().public_jwks()).unwrap_or_default();
            let Ok(claims) = portcullis_keys::verify_jwt(&jwks, hint) else {
                return Ok(refuse(tr("end_session.error.foreign_token", &[])));
            };
            if claims.get("iss").and_then(|v| v.as_str()) != Some(state.urls().issuer().as_str()) {
                return Ok(refuse(tr("end_session.error.other_issuer", &[])));
            }
            match claims.get("aud") {
                Some(serde_json::Value::String(aud)) => Some(aud.clone()),
                Some(serde_json::Value::Array(auds)) => {
                    auds.first().and_then(|a| a.as_str()).map(str::to_owned)
                }
                _ => None,
            }
        }
        None => None,
    };
    if let (Some(hinted), Some(named)) = (&hinted_client, &query.client_id)
        && hinted != named
    {
        return Ok(refuse(tr("end_session.error.client_mismatch", &[])));
    }
    let client_id = hinted_client.or_else(|| query.client_id.clone());

    let client = match &client_id {
        Some(client_id) => {
            let mut repository = state.database().transaction().await?;
            let client = repository
                .oauth_clients()
                .find_by_client_id(client_id)
                .await?;
            repository.rollback().await?;
            if client.is_none() {
                return Ok(refuse(tr("end_session.error.unknown_client", &[])));
            }
            client
        }
        None => None,
    };

    let redirect = match &query.post_logout_redirect_uri {
        None => None,
        Some(requested) => {
            // §3: the URI must have been registered by the client the request identifies.
            let registered = client.as_ref().is_some_and(|c| {
                c.post_logout_redirect_uris
                    .iter()
                    .any(|uri| uri == requested)
            });
            let Some(mut url) = registered.then(|| requested.parse::<Url>().ok()).flatten() else {
                return Ok(refuse(tr("end_session.error.unregistered_redirect", &[])));
            };
            if let Some(state_value) = &query.state {
                url.query_pairs_mut().append_pair("state", state_value);
            }
            Some(url)
        }
    };
    Ok(Ok(Checked { client, redirect }))
}
