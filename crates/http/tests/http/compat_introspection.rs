//! Introspection of compatibility tokens, as the homeserver asks about them.

use crate::common::{
    add_user_with_password, app,
    compat::{PASSWORD, introspect, is_active, logged_in, stored_session},
    oauth::{add_client, lock, post_form_with_auth},
    post_form,
};
use axum::http::StatusCode;
use serde_json::{Value, json};

fn scopes(answer: &Value) -> Vec<&str> {
    answer["scope"]
        .as_str()
        .expect("a scope")
        .split(' ')
        .collect()
}

#[tokio::test]
async fn a_compat_access_token_is_the_whole_api_on_its_device() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;
    let login = logged_in(&app, "alice", &json!({"device_id": "ABCDEFGHIJ"})).await;
    let token = login["access_token"].as_str().expect("a token");

    let answer = introspect(&app, token, Some("access_token"), false).await;

    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], "legacy");
    assert_eq!(answer["username"], "alice");
    assert_eq!(answer["sub"], alice.id.to_string());
    assert_eq!(answer["token_type"], "access_token");
    assert!(answer["iat"].is_number());
    assert!(answer.get("exp").is_none(), "it never expires: {answer}");
    assert!(answer.get("device_id").is_none());
    assert_eq!(
        scopes(&answer),
        [
            "urn:matrix:client:api:*",
            "urn:matrix:client:device:ABCDEFGHIJ",
            "urn:matrix:org.matrix.msc2967.client:api:*",
            "urn:matrix:org.matrix.msc2967.client:device:ABCDEFGHIJ",
        ]
    );
}

#[tokio::test]
async fn a_homeserver_that_reads_device_id_gets_it_apart() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let login = logged_in(&app, "alice", &json!({"device_id": "BOT"})).await;
    let token = login["access_token"].as_str().expect("a token");

    let answer = introspect(&app, token, None, true).await;

    assert_eq!(answer["active"], true);
    assert_eq!(answer["device_id"], "BOT");
    assert_eq!(
        scopes(&answer),
        [
            "urn:matrix:client:api:*",
            "urn:matrix:org.matrix.msc2967.client:api:*",
        ]
    );
}

#[tokio::test]
async fn an_admin_session_has_the_synapse_admin_scope() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;
    let token =
        portcullis_oauth::token::TokenType::CompatAccessToken.generate(&mut rand::thread_rng());
    stored_session(&app, &alice, "ADMINDEVICE", &token, true).await;

    let answer = introspect(&app, &token, None, false).await;

    assert_eq!(answer["active"], true);
    assert!(scopes(&answer).contains(&"urn:synapse:admin:*"), "{answer}");
}

#[tokio::test]
async fn a_token_synapse_issued_before_the_migration_is_looked_up() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;
    let token = "syt_YWxpY2U_FsWqWxlJcJZbCzQeNJcH_2Mf6Dn";
    stored_session(&app, &alice, "OLDDEVICE", token, false).await;

    let answer = introspect(&app, token, Some("access_token"), false).await;

    assert_eq!(answer["active"], true);
    assert_eq!(answer["username"], "alice");
    assert!(scopes(&answer).contains(&"urn:matrix:client:device:OLDDEVICE"));
}

#[tokio::test]
async fn a_macaroon_synapse_issued_long_ago_is_looked_up_too() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;
    // base64 of "0019location example.com\n0020identifier test\n", as Synapse's old tokens.
    let token = "MDAxOWxvY2F0aW9uIGV4YW1wbGUuY29tCjAwMjBpZGVudGlmaWVyIHRlc3QK";
    stored_session(&app, &alice, "MACAROONDEVICE", token, false).await;

    let answer = introspect(&app, token, Some("access_token"), false).await;

    assert_eq!(answer["active"], true);
    assert_eq!(answer["username"], "alice");
    assert!(scopes(&answer).contains(&"urn:matrix:client:device:MACAROONDEVICE"));
}

#[tokio::test]
async fn a_hint_that_contradicts_the_token_makes_it_inactive() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let login = logged_in(&app, "alice", &json!({"refresh_token": true})).await;
    let access = login["access_token"].as_str().expect("a token");
    let refresh = login["refresh_token"].as_str().expect("a token");

    assert_eq!(
        introspect(&app, access, Some("refresh_token"), false).await,
        json!({"active": false})
    );
    assert_eq!(
        introspect(&app, refresh, Some("access_token"), false).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn an_expiring_token_says_when_and_its_refresh_token_is_active_until_used() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let login = logged_in(&app, "alice", &json!({"refresh_token": true})).await;
    let access = login["access_token"].as_str().expect("a token");
    let refresh = login["refresh_token"].as_str().expect("a token");

    let answer = introspect(&app, access, None, false).await;
    // The stored expiry keeps microseconds, the test clock has nanoseconds: a bit less than
    // 300 s remain, rounded down.
    assert_eq!(answer["expires_in"], 299);
    assert_eq!(
        answer["exp"].as_i64().expect("exp") - answer["iat"].as_i64().expect("iat"),
        300
    );

    let answer = introspect(&app, refresh, Some("refresh_token"), false).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "refresh_token");
    assert_eq!(answer["client_id"], "legacy");

    let response = app
        .send(crate::common::compat::post_json(
            "/_matrix/client/v3/refresh",
            &json!({"refresh_token": refresh}),
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        introspect(&app, refresh, None, false).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn the_tokens_of_a_locked_user_are_inactive() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;
    let login = logged_in(&app, "alice", &json!({"refresh_token": true})).await;
    lock(&app, &alice).await;

    assert!(!is_active(&app, login["access_token"].as_str().expect("a token")).await);
    assert_eq!(
        introspect(
            &app,
            login["refresh_token"].as_str().expect("a token"),
            None,
            false
        )
        .await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn oauth_revocation_does_not_know_compat_tokens() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    add_client(&app, "app", "none", &["authorization_code"]).await;
    let login = logged_in(&app, "alice", &json!({})).await;
    let token = login["access_token"].as_str().expect("a token");

    let response = app
        .send(post_form(
            "/oauth2/revoke",
            &[("token", token), ("client_id", "app")],
        ))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(is_active(&app, token).await, "unknown to it, so untouched");
}

#[tokio::test]
async fn introspection_still_needs_the_homeserver_secret() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let login = logged_in(&app, "alice", &json!({})).await;
    let token = login["access_token"].as_str().expect("a token");

    let response = app
        .send(post_form_with_auth(
            "/oauth2/introspect",
            "Bearer wrong-secret",
            &[("token", token)],
        ))
        .await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
