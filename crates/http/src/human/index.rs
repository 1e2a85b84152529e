//! `GET /`: the home page, where a sign-in without a flow to continue lands.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use portcullis_templates::pages::IndexPage;

use crate::{AppState, cookies::CookieJar, csrf, session};

pub async fn get(State(state): State<AppState>, jar: CookieJar) -> Response {
    let signed_in = async {
        let mut repository = state.database().read_transaction().await?;
        let signed_in = session::current(&jar, &mut repository).await?;
        repository.rollback().await?;
        Ok::<_, portcullis_storage::StorageError>(signed_in)
    }
    .await;
    let signed_in = match signed_in {
        Ok(signed_in) => signed_in,
        Err(error) => return state.internal_error_page(&error),
    };
    let (jar, token) = csrf::page_token(&state, jar);
    let page = IndexPage {
        csrf: token,
        username: signed_in.map(|s| s.user.username),
    };
    (jar, state.render(StatusCode::OK, &page)).into_response()
}
