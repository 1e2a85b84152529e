//! `POST /_matrix/client/{v3,r0}/refresh`: strict rotation of compatibility tokens.

use crate::common::{
    TestApp, add_user_with_password, app, body_json,
    compat::{
        PASSWORD, errcode, introspect, is_active, logged_in, post_json, post_json_with_token,
    },
    oauth::lock,
};
use axum::http::StatusCode;
use serde_json::{Value, json};

const REFRESH: &str = "/_matrix/client/v3/refresh";

async fn refresh(app: &TestApp, refresh_token: &str) -> axum::http::Response<axum::body::Body> {
    app.send(post_json(REFRESH, &json!({"refresh_token": refresh_token})))
        .await
}

async fn refreshed(app: &TestApp, refresh_token: &str) -> Value {
    let response = refresh(app, refresh_token).await;
    let status = response.status();
    let body = body_json(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().expect("a string field")
}

#[tokio::test]
async fn a_refresh_gives_a_new_pair_and_ends_the_old_access_token() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let login = logged_in(&app, "alice", &json!({"refresh_token": true})).await;

    let body = refreshed(&app, field(&login, "refresh_token")).await;

    assert_eq!(body["expires_in_ms"], 300_000);
    assert!(field(&body, "access_token").starts_with("mct_"));
    assert!(field(&body, "refresh_token").starts_with("mcr_"));
    assert_ne!(body["refresh_token"], login["refresh_token"]);
    assert!(!is_active(&app, field(&login, "access_token")).await);
    assert!(is_active(&app, field(&body, "access_token")).await);

    // The new pair works in turn.
    let next = refreshed(&app, field(&body, "refresh_token")).await;
    assert!(is_active(&app, field(&next, "access_token")).await);
}

#[tokio::test]
async fn a_refresh_token_works_once() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let login = logged_in(&app, "alice", &json!({"refresh_token": true})).await;
    let refresh_token = field(&login, "refresh_token");
    let body = refreshed(&app, refresh_token).await;

    let replay = refresh(&app, refresh_token).await;

    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let error = body_json(replay).await;
    assert_eq!(error["errcode"], "M_UNKNOWN_TOKEN");
    assert_eq!(error["soft_logout"], false);
    assert!(
        is_active(&app, field(&body, "access_token")).await,
        "a replay spends nothing of the new pair (strict, but no revocation)"
    );
}

#[tokio::test]
async fn the_refreshed_access_token_expires_after_the_compat_ttl() {
    let app = app_with_ttl(600).await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let login = logged_in(&app, "alice", &json!({"refresh_token": true})).await;
    assert_eq!(login["expires_in_ms"], 600_000);

    let body = refreshed(&app, field(&login, "refresh_token")).await;
    assert_eq!(body["expires_in_ms"], 600_000);
    let token = field(&body, "access_token");
    let answer = introspect(&app, token, None, false).await;
    assert_eq!(answer["expires_in"], 599, "rounded down");

    app.clock.advance(chrono::TimeDelta::seconds(601));
    assert!(!is_active(&app, token).await);
    // The refresh token does not expire.
    refreshed(&app, field(&body, "refresh_token")).await;
}

async fn app_with_ttl(seconds: u64) -> TestApp {
    crate::common::app_with(|config| config.experimental.compat_token_ttl = seconds).await
}

#[tokio::test]
async fn after_logout_the_refresh_token_is_refused() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let login = logged_in(&app, "alice", &json!({"refresh_token": true})).await;
    let logout = app
        .send(post_json_with_token(
            "/_matrix/client/v3/logout",
            field(&login, "access_token"),
            &json!({}),
        ))
        .await;
    assert_eq!(logout.status(), StatusCode::OK);

    let response = refresh(&app, field(&login, "refresh_token")).await;

    assert_eq!(
        errcode(response, StatusCode::UNAUTHORIZED).await,
        "M_UNKNOWN_TOKEN"
    );
}

#[tokio::test]
async fn a_locked_account_spends_nothing() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;
    let login = logged_in(&app, "alice", &json!({"refresh_token": true})).await;
    lock(&app, &alice).await;

    let response = refresh(&app, field(&login, "refresh_token")).await;
    assert_eq!(
        errcode(response, StatusCode::UNAUTHORIZED).await,
        "M_USER_LOCKED"
    );

    let mut repo = app.database.transaction().await.expect("tx");
    repo.users().unlock(alice).await.expect("unlocked");
    repo.commit().await.expect("commit");
    refreshed(&app, field(&login, "refresh_token")).await;
}

#[tokio::test]
async fn other_tokens_and_garbage_are_refused() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let login = logged_in(&app, "alice", &json!({"refresh_token": true})).await;

    for token in [
        field(&login, "access_token"),
        "mcr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000",
        "syr_unknown",
        "garbage",
    ] {
        let response = refresh(&app, token).await;
        assert_eq!(
            errcode(response, StatusCode::UNAUTHORIZED).await,
            "M_UNKNOWN_TOKEN",
            "{token}"
        );
    }
    let bad = app.send(post_json(REFRESH, &json!({}))).await;
    assert_eq!(errcode(bad, StatusCode::BAD_REQUEST).await, "M_BAD_JSON");
}
