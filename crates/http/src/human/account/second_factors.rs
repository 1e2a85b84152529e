//! `/account/second-factors`: the user's authenticator app and recovery codes (ours: MAS has
//! no second factors).
//!
//! - `GET` shows what the account has, and the authenticator app being added, if any;
//! - `POST …/totp` starts adding one (after a re-authentication: whoever adds a second factor
//!   decides who can sign in), `POST …/totp/confirm` finishes with its first code and shows the
//!   recovery codes once;
//! - `POST …/recovery-codes` replaces the recovery codes (re-authentication), shown once;
//! - `POST …/remove` removes the authenticator app and the codes (re-authentication; refused
//!   while the operator requires a second factor of this user); an app still waiting for its
//!   first code is removed without one.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use portcullis_services::{
    passkey,
    second_factor::{self, Kept},
};
use portcullis_templates::pages::{
    AccountSecondFactorsPage, AccountSection, PasskeyForm as PasskeyFormView, PasskeyView,
};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{
    ReauthFailure, ReauthPolicy, csrf_refusal, disabled, nav, needs_password, reauth_form,
    reauthenticate, require_user, retry_after, timestamp, with_done,
};
use crate::{
    AppState,
    client_ip::ClientIp,
    cookies::CookieJar,
    human::{
        passkey::{options_refusal, refusal_message},
        post_auth::PostAuthAction,
        second_factor::{enrolment_view, labels},
    },
    page_form::Form,
    pages::{describe_wait, tr},
    session::SignedIn,
};

const POLICY: ReauthPolicy = ReauthPolicy::PasswordOrRecentSignIn;

fn action() -> PostAuthAction {
    PostAuthAction::manage_account(Some("second_factors"), None)
}

#[derive(Deserialize)]
pub struct FactorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: Zeroizing<String>,
    #[serde(default)]
    code: String,
}

#[derive(Deserialize)]
pub struct PasskeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: Zeroizing<String>,
    /// The name of a passkey being added.
    #[serde(default)]
    name: String,
    /// The browser's answer to the ceremony.
    #[serde(default)]
    answer: String,
    /// The passkey to remove.
    #[serde(default)]
    id: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct FactorsQuery {
    done: Option<String>,
}

/// What the page shows besides the account's state.
#[derive(Default)]
struct Shown {
    error: Option<String>,
    notice: Option<String>,
    new_recovery_codes: Vec<String>,
}

/// `GET /account/second-factors`.
pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Query(query): Query<FactorsQuery>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action()).await);
    let notice = match query.done.as_deref() {
        Some("removed") => Some(tr("second_factors.notice.off", &[])),
        Some("cancelled") => Some(tr("second_factors.notice.cancelled", &[])),
        Some("passkey_removed") => Some(tr("passkeys.notice.removed", &[])),
        _ => None,
    };
    let shown = Shown {
        notice,
        ..Shown::default()
    };
    page(&state, jar, &signed_in, StatusCode::OK, shown).await
}

/// `POST /account/second-factors/totp`: starts adding an authenticator app.
pub async fn start(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form): Form<FactorForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action()).await);
    if let Some(response) = csrf_refusal(&state, &jar, &form.csrf) {
        return response;
    }
    if !state.site_config().second_factors.totp_allowed {
        return not_allowed(&state);
    }
    let jar = match confirmed(&state, jar, ip, &signed_in, form.password).await {
        Ok(jar) => jar,
        Err(refusal) => return refusal,
    };
    let user = &signed_in.user;
    let (issuer, account) = labels(&state, user);
    let started = async {
        let mut repository = state.database().transaction().await?;
        let started = second_factor::start_enrolment(
            &mut *repository,
            state.encrypter(),
            user,
            (&issuer, &account),
            &mut state.rng(),
            state.now(),
        )
        .await?;
        repository.commit().await?;
        Ok::<_, portcullis_storage::StorageError>(started)
    }
    .await;
    match started {
        // Already set up (a second tab): the page says so.
        Ok(_) => {
            tracing::info!(user.id = %user.id, "adding an authenticator app");
            let url = state.urls().account_second_factors();
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Err(error) => state.internal_error_page(&error),
    }
}

/// `POST /account/second-factors/totp/confirm`: the first code of the app being added.
pub async fn confirm(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form): Form<FactorForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action()).await);
    if let Some(response) = csrf_refusal(&state, &jar, &form.csrf) {
        return response;
    }
    let user = &signed_in.user;
    if let Err(wait) = state.limiters().second_factor_attempt(user.id).await {
        return too_many(&state, jar, &signed_in, wait).await;
    }
    let confirmed = async {
        let mut repository = state.database().transaction().await?;
        let confirmed = second_factor::confirm_enrolment(
            &mut *repository,
            state.encrypter(),
            user,
            &form.code,
            &mut state.rng(),
            state.now(),
        )
        .await?;
        repository.commit().await?;
        Ok::<_, portcullis_storage::StorageError>(confirmed)
    }
    .await;
    let shown = match confirmed {
        Ok(Ok(codes)) => {
            tracing::info!(user.id = %user.id, "authenticator app added");
            Shown {
                notice: Some(tr("second_factors.notice.on", &[])),
                new_recovery_codes: codes,
                ..Shown::default()
            }
        }
        Ok(Err(_)) => {
            let message = tr("second_factor.error.wrong", &[]);
            return refused(&state, jar, &signed_in, StatusCode::UNAUTHORIZED, message).await;
        }
        Err(error) => return state.internal_error_page(&error),
    };
    page(&state, jar, &signed_in, StatusCode::OK, shown).await
}

/// `POST /account/second-factors/recovery-codes`: new recovery codes, the old ones void.
pub async fn recovery_codes(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form): Form<FactorForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action()).await);
    if let Some(response) = csrf_refusal(&state, &jar, &form.csrf) {
        return response;
    }
    let jar = match confirmed(&state, jar, ip, &signed_in, form.password).await {
        Ok(jar) => jar,
        Err(refusal) => return refusal,
    };
    let user = &signed_in.user;
    let made = async {
        let mut repository = state.database().transaction().await?;
        let factors = second_factor::factors_of(&mut *repository, user).await?;
        let codes = if factors.any() {
            second_factor::new_recovery_codes(&mut *repository, user, &mut state.rng(), state.now())
                .await?
        } else {
            Vec::new()
        };
        repository.commit().await?;
        Ok::<_, portcullis_storage::StorageError>(codes)
    }
    .await;
    match made {
        Ok(codes) => {
            if !codes.is_empty() {
                tracing::info!(user.id = %user.id, "new recovery codes made");
            }
            let shown = Shown {
                new_recovery_codes: codes,
                ..Shown::default()
            };
            page(&state, jar, &signed_in, StatusCode::OK, shown).await
        }
        Err(error) => state.internal_error_page(&error),
    }
}

/// `POST /account/second-factors/remove`.
pub async fn remove(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form): Form<FactorForm>,
) -> Response {
    let (mut jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action()).await);
    if let Some(response) = csrf_refusal(&state, &jar, &form.csrf) {
        return response;
    }
    let user = &signed_in.user;
    let required = state.site_config().second_factors.required;
    let counted = state.ways_in_counted();
    let may = async {
        let mut repository = state.database().read_transaction().await?;
        let factors = second_factor::factors_of(&mut *repository, user).await?;
        let may = second_factor::may_remove_all(&mut *repository, user, required, counted).await?;
        repository.rollback().await?;
        Ok::<_, portcullis_storage::StorageError>((factors, may))
    }
    .await;
    let factors = match may {
        Ok((_, Err(kept))) => return kept_refusal(&state, jar, &signed_in, (kept, true)).await,
        Ok((factors, Ok(()))) => factors,
        Err(error) => return state.internal_error_page(&error),
    };
    if factors.any() {
        let confirmation = confirmed(&state, jar, ip, &signed_in, form.password).await;
        jar = match confirmation {
            Ok(jar) => jar,
            Err(refusal) => return refusal,
        };
    }
    let removed = async {
        let mut repository = state.database().transaction().await?;
        let removed =
            second_factor::remove_own_all(&mut *repository, user, required, counted).await?;
        repository.commit().await?;
        Ok::<_, portcullis_storage::StorageError>(removed)
    }
    .await;
    match removed {
        Ok(Ok(_)) => {
            let done = if factors.any() {
                tracing::info!(user.id = %user.id, "second factors removed by their user");
                "removed"
            } else {
                "cancelled"
            };
            let url = with_done(state.urls().account_second_factors(), done);
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Ok(Err(kept)) => kept_refusal(&state, jar, &signed_in, (kept, true)).await,
        Err(error) => state.internal_error_page(&error),
    }
}

/// The page again, saying why a factor stays (all of them, or one passkey).
async fn kept_refusal(
    state: &AppState,
    jar: CookieJar,
    signed_in: &SignedIn,
    (kept, all): (Kept, bool),
) -> Response {
    let (status, key) = match kept {
        Kept::Unknown => (StatusCode::NOT_FOUND, "passkeys.error.unknown"),
        Kept::Required => (StatusCode::FORBIDDEN, "second_factors.required"),
        Kept::LastWayIn if all => (StatusCode::FORBIDDEN, "second_factors.error.last_way_in"),
        Kept::LastWayIn => (StatusCode::FORBIDDEN, "passkeys.error.last_way_in"),
    };
    refused(state, jar, signed_in, status, tr(key, &[])).await
}

/// `POST /account/second-factors/passkeys/options`: after a re-authentication, the options of
/// a passkey registration (JSON, for `navigator.credentials.create()`), or `{"error": "…"}`.
pub async fn passkey_options(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form): Form<PasskeyForm>,
) -> Response {
    let Ok((jar, signed_in)) = require_user(&state, jar, ip, action()).await else {
        let message = tr("passkey.error.signed_out", &[]);
        return options_refusal(StatusCode::UNAUTHORIZED, message);
    };
    if let Err(error) = crate::csrf::verify(&jar, &form.csrf, state.now()) {
        return options_refusal(StatusCode::FORBIDDEN, error.message());
    }
    let Some(party) = state.relying_party() else {
        return options_refusal(StatusCode::FORBIDDEN, tr("passkey.error.unavailable", &[]));
    };
    match reauthenticate(&state, ip, &signed_in, POLICY, form.password).await {
        Ok(()) => {}
        Err(ReauthFailure::Form {
            status, message, ..
        }) => return options_refusal(status, message),
        Err(ReauthFailure::Page(_)) => {
            let message = tr("passkey.error.unavailable", &[]);
            return options_refusal(StatusCode::SERVICE_UNAVAILABLE, message);
        }
    }
    crate::human::passkey::registration_options(&state, &party, &signed_in.user).await
}

/// `POST /account/second-factors/passkeys`: the browser's answer, a new passkey. The first
/// second factor of an account comes with recovery codes, shown once.
pub async fn add_passkey(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form): Form<PasskeyForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action()).await);
    if let Some(response) = csrf_refusal(&state, &jar, &form.csrf) {
        return response;
    }
    let Some(party) = state.relying_party() else {
        return not_allowed(&state);
    };
    // The options were given after a re-authentication, a moment ago.
    match needs_password(&state, &signed_in, POLICY).await {
        Ok(false) => {}
        Ok(true) => {
            let message = tr("reauth.error.password_needed", &[]);
            return refused(&state, jar, &signed_in, StatusCode::UNAUTHORIZED, message).await;
        }
        Err(error) => return state.internal_error_page(&error),
    }
    let user = &signed_in.user;
    let now = state.now();
    let name = if form.name.trim().is_empty() {
        tr("passkeys.default_name", &[])
    } else {
        form.name.clone()
    };
    let added = async {
        let mut repository = state.database().transaction().await?;
        let added = second_factor::enrol_passkey(
            &mut *repository,
            &party,
            user,
            (&name, &form.answer),
            (&mut state.rng(), now),
        )
        .await?;
        repository.commit().await?;
        Ok::<_, portcullis_storage::StorageError>(added)
    }
    .await;
    match added {
        Ok(Ok((added, codes))) => {
            tracing::info!(user.id = %user.id, passkey.id = %added.id, "passkey added");
            let shown = Shown {
                notice: Some(tr("passkeys.notice.added", &[("name", &added.name)])),
                new_recovery_codes: codes,
                ..Shown::default()
            };
            page(&state, jar, &signed_in, StatusCode::OK, shown).await
        }
        Ok(Err(refusal)) => {
            let message = refusal_message(refusal);
            refused(&state, jar, &signed_in, StatusCode::BAD_REQUEST, message).await
        }
        Err(error) => state.internal_error_page(&error),
    }
}

/// `POST /account/second-factors/passkeys/remove`: one passkey (re-authentication); refused
/// when it is not the user's, when it is the last second factor of a user the operator
/// requires one of, or when it is their last way in. With the last factor go the recovery
/// codes.
pub async fn remove_passkey(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form): Form<PasskeyForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action()).await);
    if let Some(response) = csrf_refusal(&state, &jar, &form.csrf) {
        return response;
    }
    let user = &signed_in.user;
    let Ok(id) = form.id.parse::<ulid::Ulid>() else {
        return kept_refusal(&state, jar, &signed_in, (Kept::Unknown, false)).await;
    };
    let required = state.site_config().second_factors.required;
    let counted = state.ways_in_counted();
    // Refused before the password is asked for, and again in the unit of work that removes.
    let may = async {
        let mut repository = state.database().read_transaction().await?;
        let may = passkey::may_remove(&mut *repository, user, id, required, counted).await?;
        repository.rollback().await?;
        Ok::<_, portcullis_storage::StorageError>(may)
    }
    .await;
    match may {
        Ok(Ok(())) => {}
        Ok(Err(kept)) => return kept_refusal(&state, jar, &signed_in, (kept, false)).await,
        Err(error) => return state.internal_error_page(&error),
    }
    let jar = match confirmed(&state, jar, ip, &signed_in, form.password).await {
        Ok(jar) => jar,
        Err(refusal) => return refusal,
    };
    let removed = async {
        let mut repository = state.database().transaction().await?;
        let removed = passkey::remove_own(&mut *repository, user, id, required, counted).await?;
        repository.commit().await?;
        Ok::<_, portcullis_storage::StorageError>(removed)
    }
    .await;
    match removed {
        Ok(Ok(())) => {
            tracing::info!(user.id = %user.id, passkey.id = %id, "passkey removed by its user");
            let url = with_done(state.urls().account_second_factors(), "passkey_removed");
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Ok(Err(kept)) => kept_refusal(&state, jar, &signed_in, (kept, false)).await,
        Err(error) => state.internal_error_page(&error),
    }
}

/// The page again, saying why the last form was refused.
async fn refused(
    state: &AppState,
    jar: CookieJar,
    signed_in: &SignedIn,
    status: StatusCode,
    message: String,
) -> Response {
    let shown = Shown {
        error: Some(message),
        ..Shown::default()
    };
    page(state, jar, signed_in, status, shown).await
}

/// Applies the re-authentication rule of this page; the refusal page when it does not pass.
async fn confirmed(
    state: &AppState,
    jar: CookieJar,
    ip: Option<std::net::IpAddr>,
    signed_in: &SignedIn,
    password: Zeroizing<String>,
) -> Result<CookieJar, Response> {
    match reauthenticate(state, ip, signed_in, POLICY, password).await {
        Ok(()) => Ok(jar),
        Err(failure) => Err(failure
            .respond(async |status, message| refused(state, jar, signed_in, status, message).await)
            .await),
    }
}

fn not_allowed(state: &AppState) -> Response {
    disabled(
        state,
        tr("second_factors.error.not_allowed_title", &[]),
        tr("second_factors.error.not_allowed", &[]),
    )
}

async fn too_many(
    state: &AppState,
    jar: CookieJar,
    signed_in: &SignedIn,
    wait: std::time::Duration,
) -> Response {
    let message = tr(
        "second_factor.error.too_many",
        &[("wait", &describe_wait(wait))],
    );
    let status = StatusCode::TOO_MANY_REQUESTS;
    retry_after(
        refused(state, jar, signed_in, status, message).await,
        Some(wait),
    )
}

async fn page(
    state: &AppState,
    jar: CookieJar,
    signed_in: &SignedIn,
    status: StatusCode,
    shown: Shown,
) -> Response {
    let (jar, csrf, password_required) = match reauth_form(state, jar, signed_in, POLICY).await {
        Ok(form) => form,
        Err(page) => return page,
    };
    let user = &signed_in.user;
    let (issuer, account) = labels(state, user);
    let read = async {
        let mut repository = state.database().read_transaction().await?;
        let factors = second_factor::factors_of(&mut *repository, user).await?;
        let enrolment = second_factor::pending_enrolment(
            &mut *repository,
            state.encrypter(),
            user,
            (&issuer, &account),
        )
        .await?;
        let passkeys = passkey::list(&mut *repository, user).await?;
        repository.rollback().await?;
        Ok::<_, portcullis_storage::StorageError>((factors, enrolment, passkeys))
    }
    .await;
    let (factors, enrolment, passkeys) = match read {
        Ok(read) => read,
        Err(error) => return state.internal_error_page(&error),
    };
    let site = state.site_config();
    let urls = state.urls();
    let base = urls.account_second_factors();
    let page = AccountSecondFactorsPage {
        nav: nav(state, signed_in, AccountSection::SecondFactors).await,
        csrf,
        password_required: password_required || shown.error.is_some(),
        totp_allowed: site.second_factors.totp_allowed,
        totp: factors.totp,
        enrolment: enrolment.as_ref().map(enrolment_view),
        recovery_codes_left: factors.recovery_codes,
        new_recovery_codes: shown.new_recovery_codes,
        required: second_factor::required_for(site.second_factors.required, user),
        passkeys: passkeys
            .into_iter()
            .map(|passkey| PasskeyView {
                id: passkey.id.to_string(),
                name: passkey.name,
                created_at: timestamp(passkey.created_at),
                last_used_at: passkey.last_used_at.map(timestamp),
            })
            .collect(),
        add_passkey: state.relying_party().map(|_| PasskeyFormView {
            action: format!("{base}/passkeys"),
            options_url: format!("{base}/passkeys/options"),
        }),
        remove_passkey_url: format!("{base}/passkeys/remove"),
        start_url: format!("{base}/totp"),
        confirm_url: format!("{base}/totp/confirm"),
        recovery_codes_url: format!("{base}/recovery-codes"),
        remove_url: format!("{base}/remove"),
        error: shown.error,
        notice: shown.notice,
    };
    (jar, state.render(status, &page)).into_response()
}
