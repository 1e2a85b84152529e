//! Signing in with a passkey (ours: MAS has none).
//!
//! - `POST /login/passkey/options`: the options of a WebAuthn sign-in (JSON, for
//!   `navigator.credentials.get()`), for any of this server's passkeys; used by the sign-in
//!   page, the second step of a sign-in and the account pages alike;
//! - `POST /login/passkey`: the browser's answer; a passkey verified by its authenticator (a
//!   PIN, a fingerprint) is two factors in one, so the browser session starts at once.
//!
//! The pages' forms are driven by `/assets/passkeys.js`; without it they stay hidden.

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use portcullis_services::passkey::{self, Refused};
use serde::Deserialize;

use super::post_auth::FlowQuery;
use crate::{
    AppState,
    client_ip::ClientIp,
    cookies::CookieJar,
    csrf,
    page_form::Form,
    pages::{describe_wait, tr},
};

/// A form that carries the browser's answer to a WebAuthn ceremony.
#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    answer: String,
}

/// Options of a ceremony, as the script passes them to the browser.
pub(crate) fn options_response(options: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        options,
    )
        .into_response()
}

/// The options of a ceremony adding a passkey to `user`'s account (named by their Matrix ID in
/// the authenticator), or why none starts.
pub(crate) async fn registration_options(
    state: &AppState,
    party: &passkey::RelyingParty,
    user: &portcullis_model::User,
) -> Response {
    let account = state.homeserver().mxid(&user.username);
    let started = async {
        let mut repository = state.database().transaction().await?;
        let options =
            passkey::start_registration(&mut *repository, party, user, &account, state.now())
                .await?;
        repository.commit().await?;
        Ok::<_, portcullis_storage::StorageError>(options)
    }
    .await;
    started_options(started, "registration")
}

/// The options of a ceremony just stored, or, when storage failed, why none starts.
fn started_options(
    started: Result<String, portcullis_storage::StorageError>,
    ceremony: &str,
) -> Response {
    match started {
        Ok(options) => options_response(options),
        Err(error) => {
            tracing::error!(%error, ceremony, "a passkey ceremony could not start");
            let message = tr("passkey.error.unavailable", &[]);
            options_refusal(StatusCode::INTERNAL_SERVER_ERROR, message)
        }
    }
}

/// Why no ceremony starts, as the script shows it: `{"error": "…"}`.
pub(crate) fn options_refusal(status: StatusCode, message: String) -> Response {
    let body = serde_json::json!({ "error": message });
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

/// The message of a refused answer.
pub(crate) fn refusal_message(refused: Refused) -> String {
    match refused {
        Refused::Expired => tr("passkey.error.expired", &[]),
        Refused::AlreadyRegistered => tr("passkey.error.already_registered", &[]),
        Refused::Malformed | Refused::Invalid | Refused::Unknown => {
            tr("passkey.error.refused", &[])
        }
    }
}

/// `POST /login/passkey/options`. Each ceremony is a sign-in attempt from the address,
/// counted against the password sign-in limit per address (`rate_limiting.login.per_ip`): a
/// ceremony is stored until it is answered, or for an hour.
pub async fn options(State(state): State<AppState>, ClientIp(ip): ClientIp) -> Response {
    let Some(party) = state.relying_party() else {
        return options_refusal(StatusCode::NOT_FOUND, tr("passkey.error.unavailable", &[]));
    };
    if let Err(wait) = state.limiters().password_attempt(ip, None).await {
        tracing::info!(client.ip = ?ip, "passkey sign-ins: rate limit reached");
        let message = tr("login.error.too_many", &[("wait", &describe_wait(wait))]);
        let refusal = options_refusal(StatusCode::TOO_MANY_REQUESTS, message);
        return super::account::retry_after(refusal, Some(wait));
    }
    let started = async {
        let mut repository = state.database().transaction().await?;
        let options = passkey::start_sign_in(&mut *repository, &party, state.now()).await?;
        repository.commit().await?;
        Ok::<_, portcullis_storage::StorageError>(options)
    }
    .await;
    started_options(started, "sign-in")
}

/// `POST /login/passkey`.
pub async fn sign_in(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
    Form(form): Form<AnswerForm>,
) -> Response {
    let allowed = state.site_config().second_factors.passkey_sign_in_allowed;
    let Some(party) = state.relying_party().filter(|_| allowed) else {
        let message = tr("passkey.error.unavailable", &[]);
        return super::login::form(
            &state,
            jar,
            &query,
            StatusCode::FORBIDDEN,
            None,
            Some(message),
        )
        .await;
    };
    let now = state.now();
    if let Err(error) = csrf::verify(&jar, &form.csrf, now) {
        let message = Some(error.message());
        return super::login::form(&state, jar, &query, StatusCode::FORBIDDEN, None, message).await;
    }
    let signed = async {
        let mut repository = state.database().transaction().await?;
        let signed = passkey::finish_sign_in(&mut *repository, &party, &form.answer, now).await?;
        // The challenge is used up, whatever the answer.
        repository.commit().await?;
        Ok::<_, portcullis_storage::StorageError>(signed)
    }
    .await;
    match signed {
        Ok(Ok((user, used))) => {
            tracing::info!(user.id = %user.id, passkey.id = %used.id, "passkey accepted");
            super::second_factor::signed_in_with_passkey(&state, jar, (ip, &headers), &user, &query)
                .await
        }
        Ok(Err(refused)) => {
            tracing::info!(%refused, client.ip = ?ip, "passkey sign-in refused");
            let message = Some(refusal_message(refused));
            super::login::form(&state, jar, &query, StatusCode::UNAUTHORIZED, None, message).await
        }
        Err(error) => state.internal_error_page(&error),
    }
}
