//! `GET`/`POST /account/password`: changing the password.
//!
//! Available when `account.password_change_allowed` and passwords are in use. The current
//! password is the re-authentication (`portcullis_services::reauth`): it must be right when typed,
//! and may be left out only within 5 minutes of a sign-in. The new password must be typed twice
//! and pass the strength check; it is hashed outside any transaction, with the current scheme,
//! and stored as the user's newest password. The user's other sessions are kept, as MAS keeps
//! them. A user without a password (who signs in with a passkey or at a provider) sets one
//! here, after confirming who they are with a passkey or at their provider.
//!
//! `POST /account/password/remove` (ours): where
//! `account.second_factors.passkey_only_accounts_allowed`, a user with a passkey gives up their
//! password (re-authentication as for a change) and signs in with their passkeys from then on
//! (`portcullis_services::account::remove_password`).

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_passwords::PasswordError;
use portcullis_services::account::{self, HashedPassword, PasswordKept};
use portcullis_storage::StorageError;
use portcullis_templates::pages::{AccountPasswordPage, AccountSection, PasswordChangeErrors};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{ReauthPolicy, account_user, nav, reauth_form, reauthenticate, with_done};
use crate::{AppState, client_ip::ClientIp, cookies::CookieJar, pages::tr, session::SignedIn};

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: Zeroizing<String>,
    #[serde(default)]
    new_password: Zeroizing<String>,
    #[serde(default)]
    new_password_confirm: Zeroizing<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordQuery {
    done: Option<String>,
}

fn unavailable(state: &AppState) -> Option<Response> {
    (!state.site_config().password_change_allowed).then(|| {
        super::disabled(
            state,
            tr("password.error.disabled_title", &[]),
            tr("password.error.disabled", &[]),
        )
    })
}

/// `GET /account/password`.
pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Query(query): Query<PasswordQuery>,
) -> Response {
    let (jar, signed_in) =
        crate::or_respond!(account_user(&state, jar, ip, None, unavailable(&state)).await);
    let notice = match query.done.as_deref() {
        Some("changed") => Some(tr("password.notice.changed", &[])),
        Some("removed") => Some(tr("password.notice.removed", &[])),
        _ => None,
    };
    form(
        &state,
        jar,
        &signed_in,
        StatusCode::OK,
        PasswordChangeErrors::default(),
        notice,
    )
    .await
}

/// `POST /account/password`.
pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form_data): Form<PasswordForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(
        account_user(&state, jar, ip, Some(&form_data.csrf), unavailable(&state)).await
    );
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let refuse = |status, errors| form(&state, jar.clone(), &signed_in, status, errors, None);

    if form_data.new_password.is_empty() {
        return refuse(
            invalid,
            PasswordChangeErrors {
                new_password: Some(tr("password.error.new_needed", &[])),
                ..PasswordChangeErrors::default()
            },
        )
        .await;
    }
    if *form_data.new_password != *form_data.new_password_confirm {
        return refuse(
            invalid,
            PasswordChangeErrors {
                new_password_confirm: Some(tr("password.error.new_mismatch", &[])),
                ..PasswordChangeErrors::default()
            },
        )
        .await;
    }
    let user = &signed_in.user;
    if let Err(weak) = state
        .passwords()
        .check_complexity(&form_data.new_password, &[user.username.as_str()])
    {
        return refuse(
            invalid,
            PasswordChangeErrors {
                new_password: Some(crate::human::messages::weak_password(&weak)),
                ..PasswordChangeErrors::default()
            },
        )
        .await;
    }

    let policy = ReauthPolicy::PasswordOrRecentSignIn;
    let confirmed =
        reauthenticate(&state, ip, &signed_in, policy, form_data.current_password).await;
    if let Err(failure) = confirmed {
        return failure
            .respond(async |status, message| {
                refuse(
                    status,
                    PasswordChangeErrors {
                        current_password: Some(message),
                        ..PasswordChangeErrors::default()
                    },
                )
                .await
            })
            .await;
    }

    // Hashing takes a while, and on SQLite an open transaction holds the write lock.
    let hashed = match state.passwords().hash(form_data.new_password).await {
        Ok((version, hash)) => HashedPassword { version, hash },
        Err(PasswordError::Busy) => return super::busy(&state),
        Err(error) => return state.internal_error_page(&error),
    };
    let now = state.now();
    let stored = async {
        let mut repository = state.database().transaction().await?;
        account::set_password(&mut *repository, user, &hashed, now).await?;
        repository.commit().await
    }
    .await;
    if let Err(error) = stored {
        return state.internal_error_page(&error);
    }
    tracing::info!(user.id = %user.id, user.username = %user.username, "password changed on the account page");
    let url = with_done(state.urls().account_password(), "changed");
    (jar, Redirect::to(url.as_str())).into_response()
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: Zeroizing<String>,
}

/// `POST /account/password/remove`: gives up the password, for the user's passkeys.
pub async fn remove(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form_data): Form<RemoveForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(
        account_user(&state, jar, ip, Some(&form_data.csrf), unavailable(&state)).await
    );
    let refuse = |status, message| {
        let errors = PasswordChangeErrors {
            form: Some(message),
            ..PasswordChangeErrors::default()
        };
        form(&state, jar.clone(), &signed_in, status, errors, None)
    };
    let user = &signed_in.user;
    let allowed = state
        .site_config()
        .second_factors
        .passkey_only_accounts_allowed;
    let counted = state.ways_in_counted();
    let may = async {
        let mut repository = state.database().read_transaction().await?;
        let may = account::may_remove_password(&mut *repository, user, allowed, counted).await?;
        repository.rollback().await?;
        Ok::<_, StorageError>(may)
    }
    .await;
    match may {
        Ok(Ok(())) => {}
        Ok(Err(kept)) => return refuse(StatusCode::FORBIDDEN, kept_message(kept)).await,
        Err(error) => return state.internal_error_page(&error),
    }
    let policy = ReauthPolicy::PasswordOrRecentSignIn;
    let confirmed =
        reauthenticate(&state, ip, &signed_in, policy, form_data.current_password).await;
    if let Err(failure) = confirmed {
        return failure
            .respond(async |status, message| refuse(status, message).await)
            .await;
    }
    let removed = async {
        let mut repository = state.database().transaction().await?;
        let removed = account::remove_password(&mut *repository, user, allowed, counted).await?;
        repository.commit().await?;
        Ok::<_, StorageError>(removed)
    }
    .await;
    match removed {
        Ok(Ok(())) => {
            tracing::info!(user.id = %user.id, user.username = %user.username, "password given up for passkeys on the account page");
            let url = with_done(state.urls().account_password(), "removed");
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Ok(Err(kept)) => refuse(StatusCode::FORBIDDEN, kept_message(kept)).await,
        Err(error) => state.internal_error_page(&error),
    }
}

fn kept_message(kept: PasswordKept) -> String {
    let key = match kept {
        PasswordKept::NotAllowed => "password.error.remove_not_allowed",
        PasswordKept::NoPassword => "password.error.remove_none",
        PasswordKept::NoPasskey => "password.error.remove_no_passkey",
    };
    tr(key, &[])
}

async fn form(
    state: &AppState,
    jar: CookieJar,
    signed_in: &SignedIn,
    status: StatusCode,
    errors: PasswordChangeErrors,
    notice: Option<String>,
) -> Response {
    let (jar, csrf, password_required) =
        match reauth_form(state, jar, signed_in, ReauthPolicy::PasswordOrRecentSignIn).await {
            Ok(form) => form,
            Err(page) => return page,
        };
    let allowed = state
        .site_config()
        .second_factors
        .passkey_only_accounts_allowed;
    let may_remove = async {
        let mut repository = state.database().read_transaction().await?;
        let user = &signed_in.user;
        let counted = state.ways_in_counted();
        let may = account::may_remove_password(&mut *repository, user, allowed, counted).await?;
        repository.rollback().await?;
        Ok::<_, StorageError>(may.is_ok())
    }
    .await;
    let may_remove = match may_remove {
        Ok(may) => may,
        Err(error) => return state.internal_error_page(&error),
    };
    let page = AccountPasswordPage {
        nav: nav(state, signed_in, AccountSection::Password).await,
        csrf,
        current_password_required: password_required,
        errors,
        notice,
        remove_password_url: may_remove.then(|| state.urls().account_password_remove().to_string()),
    };
    (jar, state.render(status, &page)).into_response()
}
