//! `GET`/`POST /account/tokens` and `POST /account/tokens/{id}/revoke`: the user's personal
//! access tokens, for their bots and scripts (a page MAS does not have).
//!
//! A token is made after a re-authentication, with the rules of
//! `portcullis_services::personal_sessions` (the admin scope only for users who may request it,
//! a device made on the homeserver first); it is shown once, on the page that answers the form.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use chrono::Duration;
use portcullis_model::{PersonalSession, PersonalSessionOwner};
use portcullis_oauth::scope::{
    ACCOUNT_CROSS_SIGNING_RESET, MAS_ADMIN, MATRIX_API, MATRIX_DEVICE_PREFIX,
};
use portcullis_services::{
    personal_sessions::{self, Problem, Request},
    reauth::ReauthPolicy,
};
use portcullis_storage::{Pagination, PersonalSessionFilter};
use portcullis_templates::{
    describe_scopes,
    pages::{AccountSection, AccountTokensPage, NewPersonalToken, PersonalTokenView},
};
use serde::Deserialize;
use ulid::Ulid;
use zeroize::Zeroizing;

use super::{csrf_refusal, nav, reauth_form, reauthenticate, require_user, timestamp, with_done};
use crate::{
    AppState, client_ip::ClientIp, cookies::CookieJar, human::post_auth::PostAuthAction, pages::tr,
    session::SignedIn,
};

/// The lifetimes offered, in days: the first is the default, the longest (a year) the most a
/// user may give their own token. Longer-lived tokens are for administrators
/// (`mas-cli manage issue-personal-access-token`, the Admin API).
pub const EXPIRY_CHOICES: [u32; 4] = [90, 30, 7, 365];

/// The most tokens the page lists.
const LISTED: usize = 200;

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    device: String,
    #[serde(default)]
    admin: Option<String>,
    /// Lets the token open the account's own cross-signing reset window (for a bot).
    #[serde(default)]
    cross_signing_reset: Option<String>,
    #[serde(default)]
    expires_in_days: String,
    #[serde(default)]
    password: Zeroizing<String>,
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct TokensQuery {
    done: Option<String>,
    name: Option<String>,
}

fn action() -> PostAuthAction {
    PostAuthAction::manage_account(Some("personal_access_tokens"), None)
}

/// `GET /account/tokens`.
pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Query(query): Query<TokensQuery>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action()).await);
    let notice = (query.done.as_deref() == Some("revoked")).then(|| {
        tr(
            "tokens.revoked",
            &[("name", query.name.as_deref().unwrap_or(""))],
        )
    });
    let view = View {
        notice,
        ..View::default()
    };
    page(&state, jar, &signed_in, StatusCode::OK, view).await
}

/// `POST /account/tokens`: makes a token and shows it, once.
pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Form(form): Form<TokenForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action()).await);
    if let Some(response) = csrf_refusal(&state, &jar, &form.csrf) {
        return response;
    }
    let kept = View {
        name_input: Some(form.name.clone()),
        device_input: Some(form.device.clone()),
        ..View::default()
    };
    let policy = ReauthPolicy::PasswordOrRecentSignIn;
    if let Err(failure) = reauthenticate(&state, ip, &signed_in, policy, form.password).await {
        return failure
            .respond(async |status, message| {
                let view = View {
                    error: Some(message),
                    ..kept
                };
                page(&state, jar, &signed_in, status, view).await
            })
            .await;
    }
    let refuse = async |jar, message: String| {
        let view = View {
            error: Some(message),
            ..kept.clone()
        };
        page(
            &state,
            jar,
            &signed_in,
            StatusCode::UNPROCESSABLE_ENTITY,
            view,
        )
        .await
    };
    let expires_in = match form.expires_in_days.parse::<u32>() {
        Ok(days) if EXPIRY_CHOICES.contains(&days) => Some(Duration::days(i64::from(days))),
        _ => return refuse(jar, tr("tokens.error.expiry", &[])).await,
    };
    let user = &signed_in.user;
    let may_grant_admin =
        portcullis_services::policy::user_may_request_admin(&state.policy(), user);
    let mut scope = MATRIX_API.to_owned();
    if form.cross_signing_reset.as_deref() == Some("yes") {
        scope = format!("{scope} {ACCOUNT_CROSS_SIGNING_RESET}");
    }
    if may_grant_admin && form.admin.as_deref() == Some("yes") {
        scope = format!("{scope} {MAS_ADMIN}");
    }
    let device = form.device.trim();
    if !device.is_empty() {
        scope = format!("{scope} {MATRIX_DEVICE_PREFIX}{device}");
    }
    let checked = personal_sessions::check(&Request {
        owner: PersonalSessionOwner::User(user.id),
        actor: user,
        human_name: &form.name,
        scope: &scope,
        expires_in,
        may_grant_admin,
    });
    let checked = match checked {
        Ok(checked) => checked,
        Err(problem) => {
            let message = match problem {
                Problem::NameEmpty => tr("tokens.error.name_empty", &[]),
                Problem::NameTooLong => tr("tokens.error.name_too_long", &[]),
                Problem::ScopeInvalid(_) | Problem::ScopeNotAllowed(_) => {
                    tr("tokens.error.device", &[])
                }
                other => other.to_string(),
            };
            return refuse(jar, message).await;
        }
    };
    if let Err(error) = personal_sessions::provision(state.homeserver().as_ref(), &checked).await {
        tracing::warn!(%error, user.id = %user.id, "cannot create the device of a personal access token");
        return refuse(jar, tr("tokens.error.homeserver", &[])).await;
    }
    let issued = async {
        let mut repo = state.database().transaction().await?;
        let issued =
            personal_sessions::issue(&mut *repo, &mut state.rng(), &checked, state.now()).await?;
        repo.commit().await?;
        Ok::<_, portcullis_storage::StorageError>(issued)
    };
    let (session, token) = match issued.await {
        Ok(issued) => issued,
        Err(error) => return state.internal_error_page(&error),
    };
    tracing::info!(user.id = %user.id, personal_session.id = %session.id, "personal access token made on the account page");
    let view = View {
        created: Some(NewPersonalToken {
            name: session.human_name,
            token,
        }),
        ..View::default()
    };
    page(&state, jar, &signed_in, StatusCode::OK, view).await
}

/// `POST /account/tokens/{id}/revoke`: only a token the user owns.
pub async fn revoke(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action()).await);
    if let Some(response) = csrf_refusal(&state, &jar, &form.csrf) {
        return response;
    }
    let owner = PersonalSessionOwner::User(signed_in.user.id);
    let revoked = async {
        let Ok(id) = id.parse::<Ulid>() else {
            return Ok(None);
        };
        let mut repo = state.database().transaction().await?;
        let Some(session) = repo.personal_sessions().find(id).await? else {
            return Ok(None);
        };
        if !personal_sessions::is_owner(&session, owner) {
            return Ok(None);
        }
        personal_sessions::revoke(&mut *repo, &session, state.now()).await?;
        repo.commit().await?;
        Ok::<_, portcullis_storage::StorageError>(Some(session))
    };
    match revoked.await {
        Ok(Some(session)) => {
            let mut url = with_done(state.urls().account_tokens(), "revoked");
            url.query_pairs_mut()
                .append_pair("name", &session.human_name);
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Ok(None) => state.not_found_page("tokens.error.not_found"),
        Err(error) => state.internal_error_page(&error),
    }
}

/// What a rendering of the page shows beyond the list.
#[derive(Debug, Clone, Default)]
struct View {
    created: Option<NewPersonalToken>,
    name_input: Option<String>,
    device_input: Option<String>,
    error: Option<String>,
    notice: Option<String>,
}

async fn page(
    state: &AppState,
    jar: CookieJar,
    signed_in: &SignedIn,
    status: StatusCode,
    view: View,
) -> Response {
    let (jar, csrf, password_required) =
        match reauth_form(state, jar, signed_in, ReauthPolicy::PasswordOrRecentSignIn).await {
            Ok(form) => form,
            Err(page) => return page,
        };
    let tokens = match own_tokens(state, signed_in).await {
        Ok(tokens) => tokens,
        Err(error) => return state.internal_error_page(&error),
    };
    let now = state.now();
    let page = AccountTokensPage {
        nav: nav(state, signed_in, AccountSection::Tokens).await,
        csrf,
        password_required: password_required || view.error.is_some(),
        tokens: tokens
            .into_iter()
            .map(|session| token_view(state, session, now))
            .collect(),
        created: view.created,
        admin_allowed: portcullis_services::policy::user_may_request_admin(
            &state.policy(),
            &signed_in.user,
        ),
        expiry_choices: EXPIRY_CHOICES.to_vec(),
        name_input: view.name_input,
        device_input: view.device_input,
        error: view.error,
        notice: view.notice,
    };
    (jar, state.render(status, &page)).into_response()
}

/// The standing tokens the user owns, newest first.
async fn own_tokens(
    state: &AppState,
    signed_in: &SignedIn,
) -> Result<Vec<PersonalSession>, portcullis_storage::StorageError> {
    let filter = PersonalSessionFilter {
        owner_user: Some(signed_in.user.id),
        active: Some(true),
        ..PersonalSessionFilter::default()
    };
    let mut repo = state.database().read_transaction().await?;
    let page = repo
        .personal_sessions()
        .list_page(&filter, Pagination::last(LISTED))
        .await?;
    repo.rollback().await?;
    Ok(page.edges.into_iter().rev().collect())
}

fn token_view(
    state: &AppState,
    session: PersonalSession,
    now: chrono::DateTime<chrono::Utc>,
) -> PersonalTokenView {
    let scope = session.scope.to_string();
    PersonalTokenView {
        revoke_url: state.urls().account_token_revoke(session.id).to_string(),
        name: session.human_name,
        scopes: describe_scopes(scope.split(' ')),
        created_at: timestamp(session.created_at),
        last_active_at: session.last_active_at.map(timestamp),
        expired: session.expires_at.is_some_and(|at| at <= now),
        expires_at: session.expires_at.map(timestamp),
    }
}
