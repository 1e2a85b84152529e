//! The homeserver learns about a session's device before the session's first token is handed
//! out, and forgets it when the session ends.

use crate::common::{
    TestApp, app, body_json,
    compat::run_jobs,
    oauth::{
        Authorization, MATRIX_SCOPE, VERIFIER, add_client, consented_code, exchange, sign_in,
        tokens,
    },
    post_form,
};
use axum::http::StatusCode;
use portcullis_model::JobStatus;

const CODE_GRANTS: &[&str] = &["authorization_code", "refresh_token"];
/// The device of [`MATRIX_SCOPE`].
const DEVICE: &str = "ABCDEFGHIJ";

async fn revoke(app: &TestApp, token: &str) {
    let response = app
        .send(post_form(
            "/oauth2/revoke",
            &[("token", token), ("client_id", "app")],
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_code_exchange_creates_the_device_on_the_homeserver() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;
    assert!(app.homeserver.devices("alice").is_empty());

    let response = exchange(&app, "app", None, &code.code, Some(VERIFIER)).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(app.homeserver.devices("alice").contains(DEVICE));
}

#[tokio::test]
async fn a_scope_without_device_creates_none() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let authorization = Authorization {
        scope: "openid urn:matrix:client:api:*",
        ..Authorization::default()
    };
    let code = consented_code(&app, &client, &alice, &authorization).await;

    let response = exchange(&app, "app", None, &code.code, Some(VERIFIER)).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(app.homeserver.devices("alice").is_empty());
}

#[tokio::test]
async fn while_the_homeserver_is_down_the_code_is_kept_for_a_retry() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;
    app.homeserver.set_down(true);

    let response = exchange(&app, "app", None, &code.code, Some(VERIFIER)).await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body_json(response).await["error"],
        "temporarily_unavailable"
    );

    app.homeserver.set_down(false);
    let response = exchange(&app, "app", None, &code.code, Some(VERIFIER)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(app.homeserver.devices("alice").contains(DEVICE));
}

#[tokio::test]
async fn ending_the_session_deletes_its_device_through_the_queue() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;
    let body = tokens(exchange(&app, "app", None, &code.code, Some(VERIFIER)).await).await;
    let access_token = body["access_token"].as_str().expect("an access token");

    revoke(&app, access_token).await;
    assert!(
        app.homeserver.devices("alice").contains(DEVICE),
        "the deletion is queued, not done on the request's path"
    );

    assert_eq!(run_jobs(&app).await, vec![JobStatus::Completed]);
    assert!(app.homeserver.devices("alice").is_empty());
}

#[tokio::test]
async fn a_deletion_waits_while_the_homeserver_is_down_and_happens_after() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;
    let body = tokens(exchange(&app, "app", None, &code.code, Some(VERIFIER)).await).await;
    revoke(
        &app,
        body["access_token"].as_str().expect("an access token"),
    )
    .await;

    app.homeserver.set_down(true);
    assert_eq!(run_jobs(&app).await, vec![JobStatus::Available]);
    app.homeserver.set_down(false);
    // The retry is due after the back-off.
    app.clock.advance(chrono::TimeDelta::hours(1));
    assert_eq!(run_jobs(&app).await, vec![JobStatus::Completed]);
    assert!(app.homeserver.devices("alice").is_empty());
}

#[tokio::test]
async fn a_device_another_session_still_uses_is_kept() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let first = consented_code(&app, &client, &alice, &Authorization::default()).await;
    let first = tokens(exchange(&app, "app", None, &first.code, Some(VERIFIER)).await).await;
    let second = consented_code(&app, &client, &alice, &Authorization::default()).await;
    let second = tokens(exchange(&app, "app", None, &second.code, Some(VERIFIER)).await).await;
    assert_ne!(first["access_token"], second["access_token"]);
    assert!(MATRIX_SCOPE.ends_with(DEVICE));

    revoke(
        &app,
        first["access_token"].as_str().expect("an access token"),
    )
    .await;
    assert_eq!(run_jobs(&app).await, vec![JobStatus::Completed]);

    assert!(app.homeserver.devices("alice").contains(DEVICE));
}
