//! `GET /login` and `POST /login`: the password form.

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};

use crate::{hashing_room::HashingRoom, page_form::Form};
use portcullis_model::AuthenticationKind;
use portcullis_services::sign_in::{Authenticated, Identifier, SignInError, localpart_of};
use portcullis_services::upstream_sign_in;
use portcullis_storage::StorageError;
use portcullis_templates::pages::{LoginPage, PasskeyForm, ProviderButton};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::{
    AppState,
    client_ip::ClientIp,
    cookies::CookieJar,
    csrf,
    pages::{describe_wait, tr},
};

/// The sign-in page's query.
pub type LoginQuery = super::post_auth::FlowQuery;

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: Zeroizing<String>,
}

pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<LoginQuery>,
) -> Response {
    if !state.site_config().password_login_enabled {
        // Without passwords the providers are the only way in; with one, go straight there.
        let buttons = match provider_buttons(&state, &query).await {
            Ok(buttons) => buttons,
            Err(error) => return state.internal_error_page(&error),
        };
        return match buttons.as_slice() {
            [] => password_login_disabled(&state),
            [only] => Redirect::to(&only.url).into_response(),
            _ => page(&state, jar, &query, StatusCode::OK, None, None, buttons),
        };
    }
    let username = query
        .login_hint
        .as_deref()
        .and_then(|hint| hint_username(hint, &state.site_config().server_name));
    form(&state, jar, &query, StatusCode::OK, username, None).await
}

pub async fn post(
    _room: HashingRoom,
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
    Form(form_data): Form<LoginForm>,
) -> Response {
    if !state.site_config().password_login_enabled {
        return password_login_disabled(&state);
    }
    let now = state.now();
    if let Err(error) = csrf::verify(&jar, &form_data.csrf, now) {
        return form(
            &state,
            jar,
            &query,
            StatusCode::FORBIDDEN,
            Some(form_data.username),
            Some(error.message()),
        )
        .await;
    }

    let signed_in = state
        .password_sign_in()
        .sign_in(
            ip,
            &Identifier::from_field(&form_data.username),
            form_data.password,
        )
        .await;
    crate::telemetry::password_login(signed_in.is_ok());
    let Authenticated { user, upgrade } = match signed_in {
        Ok(authenticated) => authenticated,
        Err(SignInError::InvalidCredentials) => {
            return form(
                &state,
                jar,
                &query,
                StatusCode::UNAUTHORIZED,
                Some(form_data.username),
                // The same words whether the user is unknown or the password wrong: the form
                // must not tell which usernames exist.
                Some(tr("login.error.invalid", &[])),
            )
            .await;
        }
        // Told only to whoever gave the right password.
        Err(SignInError::Deactivated) => {
            return state.error_page(
                StatusCode::FORBIDDEN,
                tr("login.error.deactivated_title", &[]),
                tr("login.error.deactivated", &[]),
            );
        }
        Err(SignInError::Locked) => {
            return state.error_page(
                StatusCode::FORBIDDEN,
                tr("login.error.locked_title", &[]),
                tr("login.error.locked", &[]),
            );
        }
        Err(SignInError::RateLimited { wait }) => {
            tracing::info!(client.ip = ?ip, "sign-in rate limit reached");
            // The form again, with the wait, so that the visitor can retry from here.
            let message = tr("login.error.too_many", &[("wait", &describe_wait(wait))]);
            let response = form(
                &state,
                jar,
                &query,
                StatusCode::TOO_MANY_REQUESTS,
                Some(form_data.username),
                Some(message),
            )
            .await;
            return super::account::retry_after(response, Some(wait));
        }
        Err(SignInError::Busy) => return crate::hashing_room::busy_page(&state),
        Err(SignInError::PasswordsDisabled | SignInError::NoPassword) => {
            return password_login_disabled(&state);
        }
        Err(SignInError::Storage(error)) => return state.internal_error_page(&error),
        Err(SignInError::Hashing(error)) => return state.internal_error_page(&error),
    };

    if let Some(upgrade) = &upgrade {
        // The new hash is kept whatever comes next: the password was right.
        let saved = async {
            let mut repository = state.database().transaction().await?;
            upgrade.save(&mut *repository, &user, now).await?;
            repository.commit().await
        }
        .await;
        if let Err(error) = saved {
            return state.internal_error_page(&error);
        }
    }
    tracing::info!(user.id = %user.id, user.username = %user.username, "password accepted");
    super::second_factor::after_first_factor(
        &state,
        jar,
        (ip, &headers),
        &user,
        AuthenticationKind::Password,
        &query,
    )
    .await
}

/// The username a `login_hint` suggests: `mxid:@alice:server` of this server, or an email.
fn hint_username(hint: &str, server_name: &str) -> Option<String> {
    match hint.strip_prefix("mxid:") {
        Some(mxid) => localpart_of(mxid, server_name),
        None if hint.contains('@') => Some(hint.to_owned()),
        None => None,
    }
}

/// A button per enabled upstream provider, carrying the page's query.
pub(crate) async fn provider_buttons(
    state: &AppState,
    query: &LoginQuery,
) -> Result<Vec<ProviderButton>, StorageError> {
    let mut repo = state.database().read_transaction().await?;
    let providers = upstream_sign_in::enabled_providers(&mut *repo).await?;
    repo.rollback().await?;
    Ok(providers
        .into_iter()
        .map(|provider| {
            let url = query.carry(state.urls().upstream_authorize(&provider.id));
            crate::upstream::provider_button(&provider, &url)
        })
        .collect())
}

/// The page with the providers' buttons read from the database.
pub(crate) async fn form(
    state: &AppState,
    jar: CookieJar,
    query: &LoginQuery,
    status: StatusCode,
    username: Option<String>,
    error: Option<String>,
) -> Response {
    match provider_buttons(state, query).await {
        Ok(providers) => page(state, jar, query, status, username, error, providers),
        Err(error) => state.internal_error_page(&error),
    }
}

fn page(
    state: &AppState,
    jar: CookieJar,
    query: &LoginQuery,
    status: StatusCode,
    username: Option<String>,
    error: Option<String>,
    providers: Vec<ProviderButton>,
) -> Response {
    let (jar, token) = csrf::page_token(state, jar);
    let mut page = LoginPage::new(token);
    page.username = username;
    page.error = error;
    page.password_form = state.site_config().password_login_enabled;
    page.providers = providers;
    if state.site_config().second_factors.passkey_sign_in_allowed && state.relying_party().is_some()
    {
        page.passkey = Some(PasskeyForm {
            action: query.carry(state.urls().login_passkey()).to_string(),
            options_url: state.urls().login_passkey_options().to_string(),
        });
    }
    if state.site_config().password_registration_enabled {
        page.registration_url = Some(query.carry(state.urls().register()).to_string());
    }
    if state.site_config().password_recovery_enabled {
        page.recovery_url = Some(state.urls().recover().to_string());
    }
    (jar, state.render(status, &page)).into_response()
}

fn password_login_disabled(state: &AppState) -> Response {
    state.error_page(
        StatusCode::NOT_FOUND,
        tr("login.error.disabled_title", &[]),
        tr("login.error.disabled", &[]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_hints_fill_in_the_username() {
        assert_eq!(
            hint_username("mxid:@bob:example.com", "example.com").as_deref(),
            Some("bob")
        );
        assert_eq!(
            hint_username("bob@mail.example", "example.com").as_deref(),
            Some("bob@mail.example")
        );
        assert_eq!(hint_username("gibberish", "example.com"), None);
    }
}
