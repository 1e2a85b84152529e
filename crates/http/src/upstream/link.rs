//! `GET`/`POST /upstream/link/{id}`: where a completed upstream sign-in goes on, once, in the
//! browser that started it.
//!
//! - The provider's account is linked to a user: nobody signed in → that user is signed in
//!   (refused when locked or deactivated); that user signed in → their session counts as
//!   freshly authenticated; another user signed in → a page says so, nothing changes.
//! - The account is linked to nobody: somebody signed in → the page offers to link it to
//!   them; nobody signed in → registration (see [`super::register`]).

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_model::{AuthenticationKind, UpstreamAuthorizationSession};
use portcullis_services::{
    upstream_registration,
    upstream_sign_in::{self, Continued},
};
use portcullis_storage::StorageError;
use portcullis_templates::pages::UpstreamLinkPage;
use serde::Deserialize;
use ulid::Ulid;

use crate::{
    AppState,
    client_ip::ClientIp,
    cookies::CookieJar,
    csrf,
    human::post_auth::FlowQuery,
    pages::tr,
    session::{self, SignedIn},
};

/// The fields the link and registration pages post; every one may be missing.
#[derive(Debug, Default, Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    pub csrf: String,
    /// `link` (to the signed-in user) or `register`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub import_display_name: Option<String>,
    #[serde(default)]
    pub import_email: Option<String>,
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub accept_terms: Option<String>,
}

pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<Ulid>,
) -> Response {
    if !super::attempts(&jar).contains(&id) {
        return expired(&state);
    }
    let now = state.now();
    let user_agent = crate::requester::user_agent(&headers);
    let result = async {
        let mut repo = state.database().transaction().await?;
        let current = session::current(&jar, &mut repo).await?;
        let Some(attempt) = repo.upstream_authorization_sessions().find(id).await? else {
            return Ok(None);
        };
        let outcome = upstream_sign_in::continue_sign_in(
            &mut *repo,
            &attempt,
            current.as_ref().map(|c| (&c.user, &c.session)),
            state.site_config().second_factors.required,
            user_agent,
            now,
        )
        .await?;
        if matches!(
            outcome,
            Continued::SignedIn { .. } | Continued::Reauthenticated
        ) {
            repo.commit().await?;
        }
        Ok::<_, StorageError>(Some((attempt, current, outcome)))
    }
    .await;
    let (attempt, current, outcome) = match result {
        Ok(Some(found)) => found,
        Ok(None) => return expired(&state),
        Err(error) => return state.internal_error_page(&error),
    };
    let destination = destination(&state, &attempt);
    match outcome {
        Continued::SignedIn {
            user,
            session: browser_session,
        } => {
            state.activity().record(
                portcullis_storage::SessionRef::Browser(browser_session.id),
                now,
                ip,
            );
            tracing::info!(user.id = %user.id, user.username = %user.username, "signed in through an upstream provider");
            crate::telemetry::upstream_login(&attempt.provider_id);
            let jar = session::remember(&state, jar, &browser_session);
            (jar, Redirect::to(destination.as_str())).into_response()
        }
        Continued::Reauthenticated => Redirect::to(destination.as_str()).into_response(),
        Continued::SecondFactor(user) => {
            crate::telemetry::upstream_login(&attempt.provider_id);
            crate::human::second_factor::ask_second_factor(
                &state,
                jar,
                &user,
                (AuthenticationKind::Upstream, Some(attempt.id)),
                &flow_query(&attempt),
            )
        }
        Continued::OtherUser => state.error_page(
            StatusCode::FORBIDDEN,
            tr("upstream.error.other_user_title", &[]),
            tr(
                "upstream.error.other_user",
                &[("provider", &provider_label(&state, &attempt).await)],
            ),
        ),
        Continued::Unlinked(link) => match current {
            Some(signed_in) => {
                link_page(&state, jar, &attempt, &link, &signed_in, &destination).await
            }
            None => super::register::page(&state, jar, &attempt, &link, user_agent, ip).await,
        },
        Continued::Locked => state.error_page(
            StatusCode::FORBIDDEN,
            tr("login.error.locked_title", &[]),
            tr("login.error.locked", &[]),
        ),
        Continued::Deactivated => state.error_page(
            StatusCode::FORBIDDEN,
            tr("login.error.deactivated_title", &[]),
            tr("login.error.deactivated", &[]),
        ),
        Continued::NotUsable => expired(&state),
    }
}

pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<Ulid>,
    Form(form): Form<LinkForm>,
) -> Response {
    if let Some(refusal) = csrf::refusal(&state, &jar, &form.csrf, "upstream.link.title") {
        return refusal;
    }
    if !super::attempts(&jar).contains(&id) {
        return expired(&state);
    }
    let found = async {
        let mut repo = state.database().read_transaction().await?;
        let current = session::current(&jar, &mut repo).await?;
        let attempt = repo.upstream_authorization_sessions().find(id).await?;
        repo.rollback().await?;
        Ok::<_, StorageError>((current, attempt))
    }
    .await;
    let (current, attempt) = match found {
        Ok((current, Some(attempt))) if attempt.consumed_at.is_none() => (current, attempt),
        Ok(_) => return expired(&state),
        Err(error) => return state.internal_error_page(&error),
    };
    let user_agent = crate::requester::user_agent(&headers);
    match (form.action.as_str(), current) {
        ("link", Some(signed_in)) => link_post(&state, &attempt, &signed_in).await,
        ("register", None) => {
            super::register::post(&state, jar, &attempt, &form, user_agent, ip).await
        }
        // A form of another state of the browser (signed in or out since it was shown).
        _ => expired(&state),
    }
}

/// Links the account to the signed-in user, then goes where they were going.
async fn link_post(
    state: &AppState,
    attempt: &UpstreamAuthorizationSession,
    signed_in: &SignedIn,
) -> Response {
    let now = state.now();
    let linked = async {
        let mut repo = state.database().transaction().await?;
        let linked = upstream_registration::link_signed_in(
            &mut *repo,
            attempt,
            &signed_in.user,
            &signed_in.session,
            now,
        )
        .await?;
        if linked {
            repo.commit().await?;
        } else {
            repo.rollback().await?;
        }
        Ok::<_, StorageError>(linked)
    }
    .await;
    match linked {
        Ok(true) => {
            tracing::info!(user.id = %signed_in.user.id, provider = %attempt.provider_id, "linked an upstream account");
            Redirect::to(destination(state, attempt).as_str()).into_response()
        }
        Ok(false) => state.error_page(
            StatusCode::CONFLICT,
            tr("upstream.error.expired_title", &[]),
            tr("upstream.error.link_failed", &[]),
        ),
        Err(error) => state.internal_error_page(&error),
    }
}

/// The offer to link the account to the signed-in user.
async fn link_page(
    state: &AppState,
    jar: CookieJar,
    attempt: &UpstreamAuthorizationSession,
    link: &portcullis_model::UpstreamLink,
    signed_in: &SignedIn,
    destination: &url::Url,
) -> Response {
    let (jar, csrf) = csrf::page_token(state, jar);
    let page = UpstreamLinkPage {
        csrf,
        provider: provider_label(state, attempt).await,
        account_name: link.human_account_name.clone(),
        user_id: format!(
            "@{}:{}",
            signed_in.user.username,
            state.site_config().server_name
        ),
        cancel_url: destination.to_string(),
    };
    (jar, state.render(StatusCode::OK, &page)).into_response()
}

/// Where the visitor was going when the sign-in started.
pub(super) fn destination(state: &AppState, attempt: &UpstreamAuthorizationSession) -> url::Url {
    flow_query(attempt).destination(state.urls())
}

/// The flow the sign-in at the provider was for (where the user was going).
pub(crate) fn flow_query(attempt: &UpstreamAuthorizationSession) -> FlowQuery {
    attempt
        .post_auth_action
        .clone()
        .and_then(|action| serde_json::from_value(action).ok())
        .unwrap_or_default()
}

/// The provider's name for a page: its `human_name`, else its id.
pub(super) async fn provider_label(
    state: &AppState,
    attempt: &UpstreamAuthorizationSession,
) -> String {
    match super::authorize::load(state, &attempt.provider_id).await {
        Ok(provider) => super::provider_name(&provider.config),
        Err(_) => attempt.provider_id.clone(),
    }
}

pub(super) fn expired(state: &AppState) -> Response {
    state.error_page(
        StatusCode::BAD_REQUEST,
        tr("upstream.error.expired_title", &[]),
        tr("upstream.error.expired", &[]),
    )
}
