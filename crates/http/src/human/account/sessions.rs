//! `GET /account/sessions`: the user's open sessions; `GET /account/devices/{device_id}`: the
//! sessions of one Matrix device; `POST /account/sessions/{id}/end`: ends one.
//!
//! Ending an OAuth 2.0 or a compatibility session queues the deletion of its device on the
//! homeserver, as a sign-out by the client would. Ending another browser session signs that
//! browser out; ending this one signs this browser out. Only the user's own sessions can be
//! seen or ended: any other id is "not found", whether it exists or not.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_model::{BrowserSession, CompatSession, OAuthSession};
use portcullis_services::{
    sessions::{self, ActiveSessions},
    user_agent::ClientSoftware,
};
use portcullis_storage::{Repository, StorageError};
use portcullis_templates::pages::{
    AccountDevicePage, AccountSection, AccountSessionsPage, SessionKind, SessionView,
};
use serde::Deserialize;
use ulid::Ulid;

use super::{csrf_refusal, csrf_token, nav, require_user, timestamp, with_done};
use crate::{
    AppState,
    client_ip::ClientIp,
    cookies::CookieJar,
    human::post_auth::PostAuthAction,
    pages::tr,
    session::{self, SignedIn},
};

#[derive(Debug, Default, Deserialize)]
pub struct SessionsQuery {
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DeviceQuery {
    /// `end`: the client asked to end the device's session (MSC4191 `device_delete`).
    action: Option<String>,
}

#[derive(Deserialize)]
pub struct EndForm {
    #[serde(default)]
    csrf: String,
}

/// The user's open sessions, newest first.
struct Sessions {
    browser: Vec<BrowserSession>,
    /// With the client's name.
    oauth: Vec<(OAuthSession, String)>,
    compat: Vec<CompatSession>,
}

async fn load(
    repository: &mut dyn Repository,
    user: &portcullis_model::User,
) -> Result<Sessions, StorageError> {
    let active = ActiveSessions::of(repository, user).await?;
    let clients = active.oauth_clients(repository).await?;
    let names = clients.into_iter().map(|client| {
        client.map_or_else(
            || tr("sessions.unknown_application", &[]),
            |client| client.client_name.unwrap_or(client.client_id),
        )
    });
    let ActiveSessions {
        browser,
        oauth,
        compat,
        ..
    } = active;
    let mut oauth: Vec<(OAuthSession, String)> = oauth.into_iter().zip(names).collect();
    let (mut browser, mut compat) = (browser, compat);
    browser.reverse();
    oauth.reverse();
    compat.reverse();
    Ok(Sessions {
        browser,
        oauth,
        compat,
    })
}

/// The software behind `user_agent`, in words: `Firefox on Linux`.
fn client_text(user_agent: Option<&str>) -> Option<String> {
    let user_agent = user_agent?;
    Some(
        match portcullis_services::user_agent::describe(user_agent) {
            Some(ClientSoftware { name, os: Some(os) }) => {
                tr("session.client_on_os", &[("client", &name), ("os", &os)])
            }
            Some(ClientSoftware { name, os: None }) => name,
            None => user_agent.to_owned(),
        },
    )
}

fn browser_view(state: &AppState, session: &BrowserSession, current: Ulid) -> SessionView {
    SessionView {
        id: session.id.to_string(),
        kind: SessionKind::Browser,
        title: tr("sessions.web_browser", &[]),
        device_id: None,
        device_url: None,
        created_at: timestamp(session.created_at),
        last_active_at: session.last_active_at.map(timestamp),
        last_active_ip: session.last_active_ip.map(|ip| ip.to_string()),
        client: client_text(session.user_agent.as_deref()),
        user_agent: session.user_agent.clone(),
        current: session.id == current,
        end_url: state.urls().account_end_session(session.id).to_string(),
    }
}

fn oauth_view(state: &AppState, session: &OAuthSession, client_name: &str) -> SessionView {
    let device_id = sessions::oauth_device(session);
    SessionView {
        id: session.id.to_string(),
        kind: SessionKind::OAuth,
        title: session
            .human_name
            .clone()
            .unwrap_or_else(|| client_name.to_owned()),
        device_url: device_id
            .as_deref()
            .map(|id| state.urls().account_device(id).to_string()),
        device_id,
        created_at: timestamp(session.created_at),
        last_active_at: session.last_active_at.map(timestamp),
        last_active_ip: session.last_active_ip.map(|ip| ip.to_string()),
        client: client_text(session.user_agent.as_deref()),
        user_agent: session.user_agent.clone(),
        current: false,
        end_url: state.urls().account_end_session(session.id).to_string(),
    }
}

fn compat_view(state: &AppState, session: &CompatSession) -> SessionView {
    SessionView {
        id: session.id.to_string(),
        kind: SessionKind::Compat,
        title: session
            .human_name
            .clone()
            .unwrap_or_else(|| tr("sessions.matrix_client", &[])),
        device_id: Some(session.device_id.clone()),
        device_url: Some(state.urls().account_device(&session.device_id).to_string()),
        created_at: timestamp(session.created_at),
        last_active_at: session.last_active_at.map(timestamp),
        last_active_ip: session.last_active_ip.map(|ip| ip.to_string()),
        client: client_text(session.user_agent.as_deref()),
        user_agent: session.user_agent.clone(),
        current: false,
        end_url: state.urls().account_end_session(session.id).to_string(),
    }
}

/// The signed-in user (or the sign-in page, then `action`) and all of their sessions.
async fn signed_in_sessions(
    state: &AppState,
    jar: CookieJar,
    ip: Option<std::net::IpAddr>,
    action: PostAuthAction,
) -> Result<(CookieJar, SignedIn, Sessions), Response> {
    let (jar, signed_in) = require_user(state, jar, ip, action).await?;
    let user = &signed_in.user;
    let sessions = async {
        let mut repository = state.database().read_transaction().await?;
        let sessions = load(&mut *repository, user).await?;
        repository.rollback().await?;
        Ok::<_, StorageError>(sessions)
    }
    .await;
    match sessions {
        Ok(sessions) => Ok((jar, signed_in, sessions)),
        Err(error) => Err(state.internal_error_page(&error)),
    }
}

/// `GET /account/sessions`.
pub async fn list(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Query(query): Query<SessionsQuery>,
) -> Response {
    let action = PostAuthAction::manage_account(Some("org.matrix.sessions_list"), None);
    let (jar, signed_in, sessions) =
        crate::or_respond!(signed_in_sessions(&state, jar, ip, action).await);
    let current = signed_in.session.id;
    let notice = match query.done.as_deref() {
        Some("ended") => Some(tr("sessions.notice.ended", &[])),
        _ => None,
    };
    let (jar, csrf) = csrf_token(&state, jar);
    let page = AccountSessionsPage {
        nav: nav(&state, &signed_in, AccountSection::Sessions).await,
        csrf,
        browser_sessions: sessions
            .browser
            .iter()
            .map(|session| browser_view(&state, session, current))
            .collect(),
        oauth_sessions: sessions
            .oauth
            .iter()
            .map(|(session, name)| oauth_view(&state, session, name))
            .collect(),
        compat_sessions: sessions
            .compat
            .iter()
            .map(|session| compat_view(&state, session))
            .collect(),
        notice,
    };
    (jar, state.render(StatusCode::OK, &page)).into_response()
}

/// `GET /account/devices/{device_id}`: the open sessions on the device; 404 when the user has
/// none there.
pub async fn device(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(device_id): Path<String>,
    Query(query): Query<DeviceQuery>,
) -> Response {
    let confirm_end = query.action.as_deref() == Some("end");
    let action = PostAuthAction::manage_account(
        Some(if confirm_end {
            "org.matrix.device_delete"
        } else {
            "org.matrix.device_view"
        }),
        Some(&device_id),
    );
    let (jar, signed_in, sessions) =
        crate::or_respond!(signed_in_sessions(&state, jar, ip, action).await);
    let mut views: Vec<SessionView> = sessions
        .oauth
        .iter()
        .filter(|(session, _)| {
            sessions::oauth_device(session).as_deref() == Some(device_id.as_str())
        })
        .map(|(session, name)| oauth_view(&state, session, name))
        .collect();
    views.extend(
        sessions
            .compat
            .iter()
            .filter(|session| session.device_id == device_id)
            .map(|session| compat_view(&state, session)),
    );
    if views.is_empty() {
        return no_such_device(&state);
    }
    let (jar, csrf) = csrf_token(&state, jar);
    let page = AccountDevicePage {
        nav: nav(&state, &signed_in, AccountSection::Sessions).await,
        csrf,
        device_id,
        sessions: views,
        confirm_end,
    };
    (jar, state.render(StatusCode::OK, &page)).into_response()
}

/// `POST /account/sessions/{id}/end`.
pub async fn end(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<EndForm>,
) -> Response {
    let action = PostAuthAction::manage_account(Some("org.matrix.sessions_list"), None);
    let (jar, signed_in) = crate::or_respond!(require_user(&state, jar, ip, action).await);
    if let Some(response) = csrf_refusal(&state, &jar, &form.csrf) {
        return response;
    }
    let Ok(id) = id.parse::<Ulid>() else {
        return no_such_session(&state);
    };
    let user = &signed_in.user;
    let now = state.now();
    let result = async {
        let mut repository = state.database().transaction().await?;
        let ended = sessions::end_user_session(&mut *repository, user, id, now).await?;
        repository.commit().await?;
        Ok::<_, StorageError>(ended)
    }
    .await;
    match result {
        Ok(Some(sessions::SessionKind::Browser)) if id == signed_in.session.id => {
            let jar = session::forget(&state, jar);
            (jar, Redirect::to(state.urls().login().as_str())).into_response()
        }
        Ok(Some(_)) => {
            tracing::info!(user.id = %user.id, session.id = %id, "session ended from the account page");
            let url = with_done(state.urls().account_sessions(), "ended");
            (jar, Redirect::to(url.as_str())).into_response()
        }
        Ok(None) => no_such_session(&state),
        Err(error) => state.internal_error_page(&error),
    }
}

fn no_such_session(state: &AppState) -> Response {
    state.error_page(
        StatusCode::NOT_FOUND,
        tr("sessions.error.session_not_found_title", &[]),
        tr("sessions.error.session_not_found", &[]),
    )
}

fn no_such_device(state: &AppState) -> Response {
    state.error_page(
        StatusCode::NOT_FOUND,
        tr("sessions.error.device_not_found_title", &[]),
        tr("sessions.error.device_not_found", &[]),
    )
}
