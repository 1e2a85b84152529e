//! `GET`/`POST /account/cross-signing-reset`: letting the user's Matrix client replace their
//! cross-signing keys without interactive authentication, for 10 minutes (MSC4191
//! `org.matrix.cross_signing_reset`).
//!
//! The approval needs a re-authentication (`portcullis_services::reauth`); it is then asked of the
//! homeserver at once, and the page says so, or that the homeserver could not be reached.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_services::account::{self, CrossSigningResetError, ResetApprover};
use portcullis_templates::pages::{AccountCrossSigningResetPage, AccountSection};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{
    ReauthPolicy, csrf_refusal, nav, reauth_form, reauthenticate, require_user, with_done,
};
use crate::{
    AppState, client_ip::ClientIp, cookies::CookieJar, human::post_auth::PostAuthAction, pages::tr,
    session::SignedIn,
};

const ACTION: &str = "org.matrix.cross_signing_reset";

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: Zeroizing<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetQuery {
    done: Option<String>,
}

/// `GET /account/cross-signing-reset`: the explanation and the form, or, after a successful
/// approval, the confirmation.
pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Query(query): Query<ResetQuery>,
) -> Response {
    let action = PostAuthAction::manage_account(Some(ACTION), None);
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action).await);
    let allowed = query.done.as_deref() == Some("allowed");
    page(&state, jar, &signed_in, StatusCode::OK, None, allowed).await
}

/// `POST /account/cross-signing-reset`.
pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form): Form<ResetForm>,
) -> Response {
    let action = PostAuthAction::manage_account(Some(ACTION), None);
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action).await);
    if let Some(response) = csrf_refusal(&state, &jar, &form.csrf) {
        return response;
    }
    let policy = ReauthPolicy::PasswordOrRecentSignIn;
    let confirmed = reauthenticate(&state, ip, &signed_in, policy, form.password).await;
    if let Err(failure) = confirmed {
        return failure
            .respond(async |status, message| {
                page(&state, jar, &signed_in, status, Some(message), false).await
            })
            .await;
    }
    let user = &signed_in.user;
    let approved_by = ResetApprover::UserOnAccountPage {
        browser_session: signed_in.session.id,
    };
    if let Err(error) =
        account::allow_cross_signing_reset(state.homeserver().as_ref(), user, approved_by).await
    {
        tracing::warn!(%error, user.id = %user.id, "cannot allow a cross-signing reset on the homeserver");
        let retryable = match &error {
            CrossSigningResetError::Homeserver(error) => error.is_retryable(),
            // require_user signed an inactive user out before this point.
            CrossSigningResetError::Inactive => false,
        };
        return if retryable {
            state.error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                tr("homeserver.error.unreachable_title", &[]),
                tr("cross_signing.error.unreachable", &[]),
            )
        } else {
            state.error_page(
                StatusCode::BAD_GATEWAY,
                tr("homeserver.error.refused_title", &[]),
                tr("cross_signing.error.refused", &[]),
            )
        };
    }
    let url = with_done(state.urls().account_cross_signing_reset(), "allowed");
    (jar, Redirect::to(url.as_str())).into_response()
}

async fn page(
    state: &AppState,
    jar: CookieJar,
    signed_in: &SignedIn,
    status: StatusCode,
    error: Option<String>,
    allowed: bool,
) -> Response {
    let (jar, csrf, password_required) =
        match reauth_form(state, jar, signed_in, ReauthPolicy::PasswordOrRecentSignIn).await {
            Ok(form) => form,
            Err(page) => return page,
        };
    let page = AccountCrossSigningResetPage {
        nav: nav(state, signed_in, AccountSection::CrossSigningReset).await,
        csrf,
        password_required: password_required || error.is_some(),
        error,
        allowed,
    };
    (jar, state.render(status, &page)).into_response()
}
