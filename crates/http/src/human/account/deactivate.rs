//! `GET`/`POST /account/deactivate`: the user deactivates their own account, when
//! `account.account_deactivation_allowed`; `GET /account/deactivated`: the page after.
//!
//! The approval needs a re-authentication (`portcullis_services::reauth`). The user is then marked
//! deactivated and a `deactivate-user` job queued in one transaction (the job ends every
//! session, removes the email addresses and deactivates the user on the homeserver, erasing
//! them there when asked to); this browser's session ends at once and its cookie is dropped.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_services::{account, sessions};
use portcullis_templates::pages::{AccountDeactivatePage, AccountDeactivatedPage, AccountSection};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{ReauthPolicy, account_user, nav, reauth_form, reauthenticate};
use crate::{
    AppState, client_ip::ClientIp, cookies::CookieJar, pages::tr, session, session::SignedIn,
};

#[derive(Deserialize)]
pub struct DeactivateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: Zeroizing<String>,
    /// `yes` to also erase the user on the homeserver.
    #[serde(default)]
    erase: Option<String>,
}

fn unavailable(state: &AppState) -> Option<Response> {
    (!state.site_config().account_deactivation_allowed).then(|| {
        super::disabled(
            state,
            tr("deactivate.error.disabled_title", &[]),
            tr("deactivate.error.disabled", &[]),
        )
    })
}

/// `GET /account/deactivate`.
pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
) -> Response {
    let (jar, signed_in) =
        crate::or_respond!(account_user(&state, jar, ip, None, unavailable(&state)).await);
    page(&state, jar, &signed_in, StatusCode::OK, None).await
}

/// `POST /account/deactivate`.
pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form): Form<DeactivateForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(
        account_user(&state, jar, ip, Some(&form.csrf), unavailable(&state)).await
    );
    let policy = ReauthPolicy::PasswordEveryTime;
    let confirmed = reauthenticate(&state, ip, &signed_in, policy, form.password).await;
    if let Err(failure) = confirmed {
        return failure
            .respond(async |status, message| {
                page(&state, jar, &signed_in, status, Some(message)).await
            })
            .await;
    }

    let user = signed_in.user.clone();
    let hs_erase = form.erase.as_deref().is_some_and(|erase| !erase.is_empty());
    let now = state.now();
    let result = async {
        let mut repository = state.database().transaction().await?;
        account::deactivate_user(&mut *repository, user.clone(), hs_erase, now).await?;
        sessions::end_browser_session(&mut *repository, &signed_in.session, now).await?;
        repository.commit().await
    }
    .await;
    if let Err(error) = result {
        return state.internal_error_page(&error);
    }
    tracing::info!(user.id = %user.id, user.username = %user.username, hs_erase, "account deactivated by its user");
    let jar = session::forget(&state, jar);
    (
        jar,
        Redirect::to(state.urls().account_deactivated().as_str()),
    )
        .into_response()
}

/// `GET /account/deactivated`: says the account is deactivated. It needs no session: the
/// deactivation ended it.
pub async fn done(State(state): State<AppState>) -> Response {
    state.render(StatusCode::OK, &AccountDeactivatedPage {})
}

async fn page(
    state: &AppState,
    jar: CookieJar,
    signed_in: &SignedIn,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let (jar, csrf, password_required) =
        match reauth_form(state, jar, signed_in, ReauthPolicy::PasswordEveryTime).await {
            Ok(form) => form,
            Err(page) => return page,
        };
    let password_required = password_required || error.is_some();
    let page = AccountDeactivatePage {
        nav: nav(state, signed_in, AccountSection::Deactivate).await,
        csrf,
        mxid: state.homeserver().mxid(&signed_in.user.username),
        password_required,
        error,
    };
    (jar, state.render(status, &page)).into_response()
}
