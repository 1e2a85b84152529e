//! `POST /account/reauthenticate` (ours): confirming who one is with a passkey, where an
//! account page asks for the password. The passkey's answer is recorded as a new
//! authentication of the browser session, and the user goes back to the page they were on,
//! whose action then takes the recent sign-in. The deactivation page takes the password every
//! time and offers no passkey, except to a user without a password (who signs in with their
//! passkeys alone).

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use portcullis_services::{passkey, reauth};
use portcullis_storage::StorageError;
use portcullis_templates::pages::{AccountSection, PasskeyForm};
use serde::Deserialize;

use super::{csrf_refusal, require_user};
use crate::{
    AppState,
    client_ip::ClientIp,
    cookies::CookieJar,
    human::{passkey::refusal_message, post_auth::PostAuthAction},
    page_form::Form,
    session::SignedIn,
};

#[derive(Deserialize)]
pub struct ReauthenticateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    answer: String,
    /// The account page to go back to.
    #[serde(default)]
    next: String,
}

/// The passkey button of `current`'s password fields: when passkeys are on and the user has
/// one, except on the sessions page (no password asked) and, for a user with a password, on the
/// deactivation page (the password every time; a user without one confirms anew instead).
pub(crate) async fn passkey_form(
    state: &AppState,
    signed_in: &SignedIn,
    current: AccountSection,
) -> Option<PasskeyForm> {
    if current == AccountSection::Sessions {
        return None;
    }
    state.relying_party()?;
    let read = async {
        let mut repository = state.database().read_transaction().await?;
        let passkeys = passkey::list(&mut *repository, &signed_in.user).await?;
        let password = if current == AccountSection::Deactivate {
            repository
                .user_passwords()
                .active(&signed_in.user)
                .await?
                .is_some()
        } else {
            false
        };
        repository.rollback().await?;
        Ok::<_, StorageError>((passkeys.len(), password))
    }
    .await;
    match read {
        Ok((0, _) | (_, true)) => None,
        Ok(_) => Some(PasskeyForm {
            action: state.urls().account_reauthenticate().to_string(),
            options_url: state.urls().login_passkey_options().to_string(),
        }),
        Err(error) => {
            tracing::warn!(%error, "cannot read the passkeys to re-authenticate with");
            None
        }
    }
}

/// Where to go back to: an account page of this server, as a path; the account page otherwise.
fn back_to(state: &AppState, next: &str) -> url::Url {
    let account = state.urls().account_management_uri();
    let base_path = state.urls().base().path().trim_end_matches('/').to_owned();
    let within = next.starts_with(&format!("{base_path}/account"))
        && !next.starts_with("//")
        && !next.contains('\\');
    if within {
        let mut url = state.urls().base().clone();
        let (path, query) = next.split_once('?').unwrap_or((next, ""));
        url.set_path(path);
        url.set_query((!query.is_empty()).then_some(query));
        url
    } else {
        account
    }
}

/// `POST /account/reauthenticate`.
pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form): Form<ReauthenticateForm>,
) -> Response {
    let action = PostAuthAction::manage_account(None, None);
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action).await);
    if let Some(response) = csrf_refusal(&state, &jar, &form.csrf) {
        return response;
    }
    let Some(party) = state.relying_party() else {
        return super::disabled(
            &state,
            crate::pages::tr("passkey.error.unavailable", &[]),
            crate::pages::tr("passkey.error.unavailable", &[]),
        );
    };
    let confirmed = reauth::reauthenticate_with_passkey(
        state.database(),
        &party,
        &signed_in.user,
        &signed_in.session,
        &form.answer,
        state.now(),
    )
    .await;
    match confirmed {
        Ok(Ok(())) => {
            tracing::info!(user.id = %signed_in.user.id, "re-authenticated with a passkey");
            let url = back_to(&state, &form.next);
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Ok(Err(refused)) => {
            tracing::info!(user.id = %signed_in.user.id, %refused, "passkey re-authentication refused");
            state.error_page(
                StatusCode::UNAUTHORIZED,
                crate::pages::tr("passkey.error.refused_title", &[]),
                refusal_message(refused),
            )
        }
        Err(error) => state.internal_error_page(&error),
    }
}
