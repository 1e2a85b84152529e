//! `POST /oauth2/token` with `grant_type=refresh_token`: rotation, reuse detection, and the
//! retry after a lost response.

use crate::common::{
    TestApp, app, body_json,
    oauth::{
        Authorization, MATRIX_SCOPE, VERIFIER, add_client, consented_code, exchange, introspect,
        is_active, lock, refresh, sign_in, tokens, wait_until_used,
    },
    post_form,
};
use axum::http::StatusCode;
use serde_json::Value;

const CODE_GRANTS: &[&str] = &["authorization_code", "refresh_token"];

/// Alice's tokens for the public client `app`.
async fn first_tokens(app: &TestApp) -> (String, String) {
    let client = add_client(app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(app, "alice").await;
    let code = consented_code(app, &client, &alice, &Authorization::default()).await;
    pair(tokens(exchange(app, "app", None, &code.code, Some(VERIFIER)).await).await)
}

fn pair(body: Value) -> (String, String) {
    (
        body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned(),
        body["refresh_token"]
            .as_str()
            .expect("refresh token")
            .to_owned(),
    )
}

async fn assert_invalid_grant(response: axum::http::Response<axum::body::Body>) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = body_json(response).await;
    assert_eq!(body["error"], "invalid_grant", "{body}");
}

#[tokio::test]
async fn a_refresh_rotates_both_tokens() {
    let app = app().await;
    let (access_1, refresh_1) = first_tokens(&app).await;

    let response = refresh(&app, "app", &refresh_1).await;

    let body = tokens(response).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    let (access_2, refresh_2) = pair(body);
    assert_ne!(access_2, access_1);
    assert_ne!(refresh_2, refresh_1);
    // The access token issued with the consumed refresh token goes with it.
    assert!(!is_active(&app, &access_1).await);
    assert!(is_active(&app, &access_2).await);
    // The successor works in turn.
    tokens(refresh(&app, "app", &refresh_2).await).await;
}

#[tokio::test]
async fn a_refresh_keeps_the_scope_of_the_session() {
    let app = app().await;
    let (_, refresh_1) = first_tokens(&app).await;

    let body = tokens(refresh(&app, "app", &refresh_1).await).await;

    let access = body["access_token"].as_str().expect("token");
    let introspection = introspect(&app, access).await;
    let scope = introspection["scope"].as_str().expect("scope");
    for token in MATRIX_SCOPE.split(' ') {
        assert!(scope.split(' ').any(|t| t == token), "{scope}");
    }
}

#[tokio::test]
async fn reusing_a_refresh_token_after_its_successor_was_used_revokes_the_session() {
    let app = app().await;
    let (_, refresh_1) = first_tokens(&app).await;
    let (access_2, refresh_2) = pair(tokens(refresh(&app, "app", &refresh_1).await).await);
    // The homeserver saw the new access token: the client did get the answer.
    assert!(is_active(&app, &access_2).await);
    wait_until_used(&app, &access_2).await;

    let reuse = refresh(&app, "app", &refresh_1).await;

    assert_invalid_grant(reuse).await;
    assert!(!is_active(&app, &access_2).await);
    assert_invalid_grant(refresh(&app, "app", &refresh_2).await).await;
}

#[tokio::test]
async fn a_refresh_whose_response_was_lost_can_be_retried_once() {
    let app = app().await;
    let (_, refresh_1) = first_tokens(&app).await;
    // The answer of this refresh never reaches the client.
    let (lost_access, lost_refresh) = pair(tokens(refresh(&app, "app", &refresh_1).await).await);

    let retry = refresh(&app, "app", &refresh_1).await;

    let (access_3, refresh_3) = pair(tokens(retry).await);
    assert!(!is_active(&app, &lost_access).await);
    assert!(is_active(&app, &access_3).await);
    assert_invalid_grant(refresh(&app, "app", &lost_refresh).await).await;
    // Once is the limit: a further retry is a reuse, and ends the session.
    assert_invalid_grant(refresh(&app, "app", &refresh_1).await).await;
    assert!(!is_active(&app, &access_3).await);
    assert_invalid_grant(refresh(&app, "app", &refresh_3).await).await;
}

#[tokio::test]
async fn a_refresh_token_of_another_client_is_refused() {
    let app = app().await;
    let (access_1, refresh_1) = first_tokens(&app).await;
    add_client(&app, "other", "none", CODE_GRANTS).await;

    let response = refresh(&app, "other", &refresh_1).await;

    assert_invalid_grant(response).await;
    assert!(is_active(&app, &access_1).await);
}

#[tokio::test]
async fn an_unknown_refresh_token_is_refused() {
    let app = app().await;
    add_client(&app, "app", "none", CODE_GRANTS).await;

    let response = refresh(&app, "app", "mar_NotATokenNotATokenNotAToken12_000000").await;

    assert_invalid_grant(response).await;
}

#[tokio::test]
async fn a_refresh_for_a_locked_user_is_refused() {
    let app = app().await;
    let (_, refresh_1) = first_tokens(&app).await;
    let mut repo = app.database.transaction().await.expect("tx");
    let alice = repo
        .users()
        .find_by_username("alice")
        .await
        .expect("lookup")
        .expect("alice");
    repo.rollback().await.expect("rollback");
    lock(&app, &alice).await;

    assert_invalid_grant(refresh(&app, "app", &refresh_1).await).await;
}

#[tokio::test]
async fn a_refresh_may_repeat_the_granted_scope_but_not_change_it() {
    let app = app().await;
    let (_, refresh_1) = first_tokens(&app).await;
    let ask = |refresh_token: String, scope: &'static str| {
        post_form(
            "/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh_token),
                ("client_id", "app"),
                ("scope", scope),
            ],
        )
    };

    let narrower = app.send(ask(refresh_1.clone(), "openid")).await;
    assert_eq!(narrower.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(narrower).await["error"], "invalid_scope");

    // Listed in another order, it is the same scope.
    let same = app
        .send(ask(
            refresh_1,
            "urn:matrix:client:device:ABCDEFGHIJ openid urn:matrix:client:api:*",
        ))
        .await;
    tokens(same).await;
}
