//! When every place of the password-hashing pool is taken, sign-ins and registrations are
//! refused at once with 503 and `Retry-After`, before their body is read and without the
//! database: refusing must not cost what it protects. Rate limits stay 429 (see
//! `login_rate_limit` and `compat_login`).

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use serde_json::json;

use crate::common::{
    app, body_json, body_text,
    compat::{LOGIN, PASSWORD, login, password_body, post_json},
    post_form,
};

/// Takes every place of `app`'s hashing pool until the returned value is dropped.
fn saturate(app: &crate::common::TestApp) -> impl Drop {
    app.state
        .passwords()
        .take_every_place()
        .expect("passwords are enabled")
}

fn retry_after(response: &axum::http::Response<Body>) -> u64 {
    response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After header in seconds")
}

#[tokio::test]
async fn a_sign_in_is_refused_with_a_busy_page_before_its_form_is_read_or_the_database_asked() {
    let app = app().await;
    let taken = saturate(&app);
    // Any use of the database would now fail with an internal error.
    app.database.close().await;

    // No csrf field, no username: read, this form would be a 400 page.
    let response = app.send(post_form("/login", &[("password", "x")])).await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after(&response), 5);
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = body_text(response).await;
    assert!(
        page.contains("The server is busy checking other passwords"),
        "{page}"
    );
    drop(taken);
}

#[tokio::test]
async fn the_busy_page_is_in_the_visitors_language() {
    let app = app().await;
    let _taken = saturate(&app);
    let mut request = post_form("/register/password", &[]);
    request.headers_mut().insert(
        header::ACCEPT_LANGUAGE,
        "fr-FR,fr;q=0.9".parse().expect("a header"),
    );

    let response = app.send(request).await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = body_text(response).await;
    assert!(page.contains("lang=\"fr\""), "{page}");
    assert!(page.contains("Le serveur est occupé"), "{page}");
}

#[tokio::test]
async fn a_matrix_login_is_refused_with_a_503_matrix_error_before_its_body_is_read() {
    let app = app().await;
    let taken = saturate(&app);
    app.database.close().await;
    let not_json = Request::post(LOGIN)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{ this is not json"))
        .expect("a request");

    let response = app.send(not_json).await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after(&response), 5);
    let error = body_json(response).await;
    assert_eq!(error["errcode"], "M_UNKNOWN");
    assert_eq!(error["retry_after_ms"], json!(5000));
    drop(taken);
}

#[tokio::test]
async fn sign_ins_go_through_again_once_the_pool_has_room() {
    let app = app().await;
    crate::common::add_user_with_password(&app, "alice", PASSWORD, false).await;
    let taken = saturate(&app);
    let refused = login(&app, &password_body("alice", &json!({}))).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);

    drop(taken);
    // The jobs that held the places finish on the hashing threads.
    while !app.state.passwords().has_room() {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let response = app
        .send(post_json(LOGIN, &password_body("alice", &json!({}))))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
}
