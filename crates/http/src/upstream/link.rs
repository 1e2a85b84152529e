//! `GET /upstream/link/{id}`: a completed upstream sign-in signs in the linked user, once, in
//! the browser that started it.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use portcullis_services::upstream_sign_in::{self, LinkedSignIn};
use portcullis_storage::StorageError;
use ulid::Ulid;

use crate::{
    AppState, client_ip::ClientIp, cookies::CookieJar, human::post_auth::FlowQuery, pages::tr,
    session,
};

pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<Ulid>,
) -> Response {
    let expired = |state: &AppState| {
        state.error_page(
            StatusCode::BAD_REQUEST,
            tr("upstream.error.expired_title", &[]),
            tr("upstream.error.expired", &[]),
        )
    };
    if !super::attempts(&jar).contains(&id) {
        return expired(&state);
    }
    let now = state.now();
    let user_agent = crate::requester::user_agent(&headers);
    let result = async {
        let mut repo = state.database().transaction().await?;
        let Some(attempt) = repo.upstream_authorization_sessions().find(id).await? else {
            return Ok((None, LinkedSignIn::NotUsable));
        };
        let outcome =
            upstream_sign_in::sign_in_linked(&mut *repo, &attempt, user_agent, now).await?;
        if matches!(outcome, LinkedSignIn::SignedIn { .. }) {
            repo.commit().await?;
        }
        Ok::<_, StorageError>((Some(attempt), outcome))
    }
    .await;
    let (attempt, outcome) = match result {
        Ok(found) => found,
        Err(error) => return state.internal_error_page(&error),
    };
    match outcome {
        LinkedSignIn::SignedIn {
            user,
            session: browser_session,
        } => {
            state.activity().record(
                portcullis_storage::SessionRef::Browser(browser_session.id),
                now,
                ip,
            );
            tracing::info!(user.id = %user.id, user.username = %user.username, "signed in through an upstream provider");
            let query: FlowQuery = attempt
                .and_then(|attempt| attempt.post_auth_action)
                .and_then(|action| serde_json::from_value(action).ok())
                .unwrap_or_default();
            let jar = session::remember(&state, jar, &browser_session);
            (jar, Redirect::to(query.destination(state.urls()).as_str())).into_response()
        }
        LinkedSignIn::Locked => state.error_page(
            StatusCode::FORBIDDEN,
            tr("login.error.locked_title", &[]),
            tr("login.error.locked", &[]),
        ),
        LinkedSignIn::Deactivated => state.error_page(
            StatusCode::FORBIDDEN,
            tr("login.error.deactivated_title", &[]),
            tr("login.error.deactivated", &[]),
        ),
        LinkedSignIn::NoUser(link) => state.error_page(
            StatusCode::FORBIDDEN,
            tr("upstream.error.no_account_title", &[]),
            tr(
                "upstream.error.no_account",
                &[("provider", &link.provider_id)],
            ),
        ),
        LinkedSignIn::NotUsable => expired(&state),
    }
}
