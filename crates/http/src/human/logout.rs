//! `POST /logout`: ends the browser session.

use axum::{
    Form,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use portcullis_services::sessions;
use serde::Deserialize;

use crate::{AppState, cookies::CookieJar, csrf, pages::tr, session};

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<LogoutForm>,
) -> Response {
    let now = state.now();
    if let Err(error) = csrf::verify(&jar, &form.csrf, now) {
        return state.error_page(
            StatusCode::FORBIDDEN,
            tr("logout.error.refused_title", &[]),
            error.message(),
        );
    }
    let result = async {
        let mut repository = state.database().transaction().await?;
        if let Some(signed_in) = session::current(&jar, &mut repository).await? {
            sessions::end_browser_session(&mut *repository, &signed_in.session, now).await?;
        }
        repository.commit().await
    }
    .await;
    if let Err(error) = result {
        return state.internal_error_page(&error);
    }
    let jar = session::forget(&state, jar);
    (jar, Redirect::to(state.urls().login().as_str())).into_response()
}
