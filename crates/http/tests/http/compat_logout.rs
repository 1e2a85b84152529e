//! `POST /_matrix/client/{v3,r0}/logout` and `/logout/all`.

use crate::common::{
    TestApp, add_user_with_password, app, body_json,
    compat::{
        PASSWORD, active_sessions, errcode, is_active, logged_in, post_json_with_token, run_jobs,
    },
};
use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use portcullis_model::JobStatus;
use serde_json::{Value, json};

const LOGOUT: &str = "/_matrix/client/v3/logout";
const LOGOUT_ALL: &str = "/_matrix/client/v3/logout/all";

async fn token_of(app: &TestApp, device_id: &str) -> String {
    let body = logged_in(app, "alice", &json!({"device_id": device_id})).await;
    body["access_token"].as_str().expect("a token").to_owned()
}

#[tokio::test]
async fn logging_out_ends_the_session_then_deletes_the_device() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;
    let token = token_of(&app, "BOTDEVICE").await;

    let response = app
        .send(post_json_with_token(LOGOUT, &token, &json!({})))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_json(response).await, json!({}));
    assert!(!is_active(&app, &token).await);
    assert!(active_sessions(&app, &alice).await.is_empty());
    assert!(
        app.homeserver.devices("alice").contains("BOTDEVICE"),
        "the deletion is queued, not done on the request's path"
    );
    assert_eq!(run_jobs(&app).await, vec![JobStatus::Completed]);
    assert!(app.homeserver.devices("alice").is_empty());

    let again = app
        .send(post_json_with_token(LOGOUT, &token, &json!({})))
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let body = body_json(again).await;
    assert_eq!(body["errcode"], "M_UNKNOWN_TOKEN");
    assert_eq!(body["soft_logout"], false);
}

#[tokio::test]
async fn the_token_may_come_in_the_query_of_an_old_client() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let token = token_of(&app, "OLDCLIENT").await;

    let response = app
        .send(
            Request::post(format!("/_matrix/client/r0/logout?access_token={token}"))
                .body(Body::empty())
                .expect("valid"),
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(!is_active(&app, &token).await);
}

#[tokio::test]
async fn a_missing_or_unknown_token_is_refused() {
    let app = app().await;
    let missing = app
        .send(Request::post(LOGOUT).body(Body::empty()).expect("valid"))
        .await;
    assert_eq!(
        errcode(missing, StatusCode::UNAUTHORIZED).await,
        "M_MISSING_TOKEN"
    );

    for token in [
        "mct_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000",
        "syt_YWxpY2U_unknown_0000",
        "not-a-token",
    ] {
        let response = app
            .send(post_json_with_token(LOGOUT, token, &json!({})))
            .await;
        assert_eq!(
            errcode(response, StatusCode::UNAUTHORIZED).await,
            "M_UNKNOWN_TOKEN",
            "{token}"
        );
    }
}

#[tokio::test]
async fn logging_out_everywhere_needs_the_client_to_accept_compat_only() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;
    let token = token_of(&app, "DEVICEONE").await;
    let other = token_of(&app, "DEVICETWO").await;

    for body in [
        None,
        Some(json!({})),
        Some(json!({"io.element.only_compat_is_fine": false})),
    ] {
        let mut request = post_json_with_token(LOGOUT_ALL, &token, &Value::Null);
        *request.body_mut() = body.map_or_else(Body::empty, |body| Body::from(body.to_string()));
        let response = app.send(request).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let error = body_json(response).await;
        assert_eq!(error["errcode"], "M_UNRECOGNIZED");
        assert!(
            error["error"]
                .as_str()
                .is_some_and(|text| text.contains("io.element.only_compat_is_fine")),
            "{error}"
        );
    }
    assert_eq!(active_sessions(&app, &alice).await.len(), 2);

    let response = app
        .send(post_json_with_token(
            LOGOUT_ALL,
            &token,
            &json!({"io.element.only_compat_is_fine": true}),
        ))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_json(response).await, json!({}));
    assert!(active_sessions(&app, &alice).await.is_empty());
    assert!(!is_active(&app, &token).await);
    assert!(!is_active(&app, &other).await);
    run_jobs(&app).await;
    assert!(app.homeserver.devices("alice").is_empty());
}

#[tokio::test]
async fn logging_out_everywhere_needs_a_valid_token() {
    let app = app().await;
    let response = app
        .send(post_json_with_token(
            LOGOUT_ALL,
            "mct_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000",
            &json!({"io.element.only_compat_is_fine": true}),
        ))
        .await;
    assert_eq!(
        errcode(response, StatusCode::UNAUTHORIZED).await,
        "M_UNKNOWN_TOKEN"
    );
}
