//! `POST /oauth2/revoke`: a client ends its own sessions, and only those.

use crate::common::{
    TestApp, app, body_json,
    oauth::{
        Authorization, CLIENT_SECRET, VERIFIER, add_client, basic, consented_code, exchange,
        is_active, post_form_with_auth, refresh, sign_in, tokens,
    },
    post_form,
};
use axum::http::StatusCode;

const CODE_GRANTS: &[&str] = &["authorization_code", "refresh_token"];

async fn alice_tokens(app: &TestApp) -> (String, String) {
    let client = add_client(app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(app, "alice").await;
    let code = consented_code(app, &client, &alice, &Authorization::default()).await;
    let body = tokens(exchange(app, "app", None, &code.code, Some(VERIFIER)).await).await;
    (
        body["access_token"].as_str().expect("access").to_owned(),
        body["refresh_token"].as_str().expect("refresh").to_owned(),
    )
}

async fn revoke(app: &TestApp, client_id: &str, token: &str) -> StatusCode {
    app.send(post_form(
        "/oauth2/revoke",
        &[("token", token), ("client_id", client_id)],
    ))
    .await
    .status()
}

#[tokio::test]
async fn revoking_an_access_token_ends_its_session() {
    let app = app().await;
    let (access_token, refresh_token) = alice_tokens(&app).await;

    assert_eq!(revoke(&app, "app", &access_token).await, StatusCode::OK);

    assert!(!is_active(&app, &access_token).await);
    assert_eq!(
        refresh(&app, "app", &refresh_token).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_session() {
    let app = app().await;
    let (access_token, refresh_token) = alice_tokens(&app).await;

    assert_eq!(revoke(&app, "app", &refresh_token).await, StatusCode::OK);

    assert!(!is_active(&app, &access_token).await);
    assert_eq!(
        refresh(&app, "app", &refresh_token).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_client_cannot_revoke_the_token_of_another() {
    let app = app().await;
    let (access_token, _) = alice_tokens(&app).await;
    add_client(&app, "other", "client_secret_basic", CODE_GRANTS).await;

    let response = app
        .send(post_form_with_auth(
            "/oauth2/revoke",
            &basic("other", CLIENT_SECRET),
            &[("token", &access_token)],
        ))
        .await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(response).await["error"], "unauthorized_client");
    assert!(is_active(&app, &access_token).await);
}

#[tokio::test]
async fn revoking_an_unknown_or_malformed_token_succeeds() {
    let app = app().await;
    add_client(&app, "app", "none", CODE_GRANTS).await;
    let unknown =
        portcullis_oauth::token::TokenType::RefreshToken.generate(&mut rand::thread_rng());

    assert_eq!(revoke(&app, "app", &unknown).await, StatusCode::OK);
    assert_eq!(
        revoke(&app, "app", "not a token at all").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn revoking_twice_succeeds_twice() {
    let app = app().await;
    let (access_token, _) = alice_tokens(&app).await;

    assert_eq!(revoke(&app, "app", &access_token).await, StatusCode::OK);
    assert_eq!(revoke(&app, "app", &access_token).await, StatusCode::OK);
}

#[tokio::test]
async fn revocation_requires_client_authentication() {
    let app = app().await;
    let (access_token, _) = alice_tokens(&app).await;

    let response = app
        .send(post_form("/oauth2/revoke", &[("token", &access_token)]))
        .await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(response).await["error"], "invalid_client");
    assert!(is_active(&app, &access_token).await);
}

#[tokio::test]
async fn revocation_without_token_is_an_invalid_request() {
    let app = app().await;
    add_client(&app, "app", "none", CODE_GRANTS).await;

    let response = app
        .send(post_form("/oauth2/revoke", &[("client_id", "app")]))
        .await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(response).await["error"], "invalid_request");
}
