//! `GET` and `POST /oauth2/logout`: RP-initiated logout (OpenID Connect RP-Initiated Logout
//! 1.0), the discovery document's `end_session_endpoint`.
//!
//! An application may send the browser here to sign the user out. The user confirms (§3: the
//! provider should ask), then goes back to the application only if `post_logout_redirect_uri`
//! is one the application registered, named by a valid `id_token_hint` or `client_id`: this
//! endpoint must not become an open redirector.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_services::{
    logout::{self, CheckedLogout, LogoutProblem, LogoutRequest},
    sessions,
};
use portcullis_storage::StorageError;
use portcullis_templates::pages::{EndSessionPage, LoggedOutPage};
use serde::Deserialize;
use url::Url;

use crate::{
    AppState,
    cookies::CookieJar,
    csrf,
    pages::{ChoiceForm, tr},
    session,
};

#[derive(Debug, Deserialize)]
pub struct EndSessionQuery {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

type Checked = CheckedLogout;

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
    let (jar, token) = csrf::page_token(&state, jar);
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
    Form(form): Form<ChoiceForm>,
) -> Response {
    let now = state.now();
    if let Some(refused) = csrf::refusal(&state, &jar, &form.csrf, "form.error.expired_title") {
        return refused;
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
    let jar = session::sign_out(&state, jar);
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
    let request = LogoutRequest {
        id_token_hint: query.id_token_hint.as_deref(),
        client_id: query.client_id.as_deref(),
        post_logout_redirect_uri: query.post_logout_redirect_uri.as_deref(),
        state: query.state.as_deref(),
    };
    let checked = logout::check(
        state.database(),
        state.keystore(),
        state.urls().issuer(),
        &request,
    )
    .await?;
    Ok(checked.map_err(|problem| {
        let key = match problem {
            LogoutProblem::ForeignToken => "end_session.error.foreign_token",
            LogoutProblem::OtherIssuer => "end_session.error.other_issuer",
            LogoutProblem::ClientMismatch => "end_session.error.client_mismatch",
            LogoutProblem::UnknownClient => "end_session.error.unknown_client",
            LogoutProblem::UnregisteredRedirect => "end_session.error.unregistered_redirect",
        };
        Box::new(state.error_page(
            StatusCode::BAD_REQUEST,
            tr("end_session.error.title", &[]),
            tr(key, &[]),
        ))
    }))
}
