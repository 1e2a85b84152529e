//! `POST /logout`: ends the browser session.

use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
};

use crate::page_form::Form;
use portcullis_services::sessions;
use serde::Deserialize;

use crate::{AppState, cookies::CookieJar, csrf, session};

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
    if let Some(refused) = csrf::refusal(&state, &jar, &form.csrf, "logout.error.refused_title") {
        return refused;
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
    let jar = session::sign_out(&state, jar);
    (jar, Redirect::to(state.urls().login().as_str())).into_response()
}
