//! `m.login.application_service`: a bridge signs its users in with its appservice's token, as
//! on Synapse; the users it may sign in are its exclusive namespace's and its sender.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::{Value, json};

use crate::common::{
    TestApp, add_user_with_password, app_with, body_json,
    compat::{PASSWORD, is_active},
};

const REGISTRATION: &str = r#"
id: "telegram"
url: "http://localhost:29317"
as_token: "as-telegram-secret"
hs_token: "hs-telegram-secret"
sender_localpart: "telegrambot"
namespaces:
  users:
    - exclusive: true
      regex: '@telegram_.*:example\.com'
"#;

async fn bridge_app() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("telegram.yaml");
    std::fs::write(&path, REGISTRATION).expect("written");
    let app = app_with(|config| config.matrix.app_service_config_files = vec![path]).await;
    (app, dir)
}

async fn appservice_login(app: &TestApp, token: Option<&str>, user: &str) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method("POST")
        .uri("/_matrix/client/v3/login")
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = json!({
        "type": "m.login.application_service",
        "identifier": {"type": "m.id.user", "user": user},
        "device_id": "BRIDGEDEV1",
    });
    let response = app
        .send(
            request
                .body(Body::from(body.to_string()))
                .expect("a request"),
        )
        .await;
    let status = response.status();
    (status, body_json(response).await)
}

#[tokio::test]
async fn a_bridge_signs_in_a_user_of_its_namespace_who_gets_a_device() {
    let (app, _dir) = bridge_app().await;
    let (status, body) = appservice_login(&app, Some("as-telegram-secret"), "telegram_1234").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_id"], "@telegram_1234:example.com");
    assert_eq!(body["device_id"], "BRIDGEDEV1");
    let token = body["access_token"].as_str().expect("a token");
    assert!(is_active(&app, token).await);
    assert!(
        app.homeserver
            .user("telegram_1234")
            .expect("the device was made on the homeserver")
            .devices
            .contains("BRIDGEDEV1")
    );
    // The sender too, with its full Matrix ID.
    let (status, body) =
        appservice_login(&app, Some("as-telegram-secret"), "@telegrambot:example.com").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn wrong_tokens_and_users_outside_the_namespace_get_synapses_errors() {
    let (app, _dir) = bridge_app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let (status, body) = appservice_login(&app, None, "telegram_1").await;
    assert_eq!(
        (status, body["errcode"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("M_MISSING_TOKEN"))
    );
    let (status, body) = appservice_login(&app, Some("hs-telegram-secret"), "telegram_1").await;
    assert_eq!(
        (status, body["errcode"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("M_UNKNOWN_TOKEN"))
    );
    let (status, body) = appservice_login(&app, Some("as-telegram-secret"), "alice").await;
    assert_eq!(
        (status, body["errcode"].as_str()),
        (StatusCode::FORBIDDEN, Some("M_FORBIDDEN"))
    );

    // The flow is listed, as Synapse lists it.
    let response = app
        .send(
            Request::get("/_matrix/client/v3/login")
                .body(Body::empty())
                .expect("a request"),
        )
        .await;
    let flows = body_json(response).await;
    assert!(
        flows["flows"]
            .as_array()
            .expect("flows")
            .iter()
            .any(|flow| flow["type"] == "m.login.application_service"),
        "{flows}"
    );
}
