//! Introspection of personal access tokens, as the homeserver asks about them: the actor is
//! the user, the scope is the session's, and the token stops working when it is revoked or
//! its actor is locked or deactivated.

use chrono::TimeDelta;
use portcullis_model::PersonalSessionOwner;
use portcullis_services::personal_sessions::{self, Request};

use crate::common::{
    TestApp, add_user_with_password, app,
    compat::{PASSWORD, introspect},
    oauth::{deactivate, lock},
};

async fn personal_token(
    app: &TestApp,
    actor: &portcullis_model::User,
    scope: &str,
    expires_in: Option<TimeDelta>,
) -> (portcullis_model::PersonalSession, String) {
    let checked = personal_sessions::check(&Request {
        owner: PersonalSessionOwner::User(actor.id),
        actor,
        human_name: "bot",
        scope,
        expires_in,
        may_grant_admin: false,
    })
    .expect("a valid request");
    personal_sessions::provision(app.homeserver.as_ref(), &checked)
        .await
        .expect("the device is made");
    let mut tx = app.database.transaction().await.expect("tx");
    let issued =
        personal_sessions::issue(&mut *tx, &mut rand::rngs::OsRng, &checked, app.state.now())
            .await
            .expect("issued");
    tx.commit().await.expect("committed");
    issued
}

#[tokio::test]
async fn a_personal_access_token_acts_as_its_actor_on_its_device() {
    let app = app().await;
    let bot = add_user_with_password(&app, "bot", PASSWORD, false).await;
    let (_, token) = personal_token(
        &app,
        &bot,
        "urn:matrix:client:api:* urn:matrix:client:device:BOTDEVICE01",
        Some(TimeDelta::hours(1)),
    )
    .await;
    assert!(app.homeserver.devices("bot").contains("BOTDEVICE01"));

    let answer = introspect(&app, &token, Some("access_token"), true).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["username"], "bot");
    assert_eq!(answer["sub"], bot.id.to_string());
    assert_eq!(answer["device_id"], "BOTDEVICE01");
    assert!(answer["exp"].is_number(), "{answer}");

    // A refresh-token hint contradicts the token: not active.
    let answer = introspect(&app, &token, Some("refresh_token"), true).await;
    assert_eq!(answer["active"], false);
}

#[tokio::test]
async fn a_personal_access_token_stops_when_revoked_expired_or_its_actor_cannot_sign_in() {
    let app = app().await;
    let bot = add_user_with_password(&app, "bot", PASSWORD, false).await;
    let (session, token) = personal_token(
        &app,
        &bot,
        "urn:matrix:client:api:*",
        Some(TimeDelta::hours(1)),
    )
    .await;
    let mut tx = app.database.transaction().await.expect("tx");
    personal_sessions::revoke(&mut *tx, &session, app.state.now())
        .await
        .expect("revoked");
    tx.commit().await.expect("committed");
    assert_eq!(introspect(&app, &token, None, false).await["active"], false);

    let (_, token) = personal_token(
        &app,
        &bot,
        "urn:matrix:client:api:*",
        Some(TimeDelta::hours(1)),
    )
    .await;
    app.clock.advance(TimeDelta::hours(2));
    assert_eq!(introspect(&app, &token, None, false).await["active"], false);

    let (_, token) = personal_token(&app, &bot, "urn:matrix:client:api:*", None).await;
    assert_eq!(introspect(&app, &token, None, false).await["active"], true);
    lock(&app, &bot).await;
    assert_eq!(introspect(&app, &token, None, false).await["active"], false);
    deactivate(&app, &bot).await;
    assert_eq!(introspect(&app, &token, None, false).await["active"], false);
}

#[tokio::test]
async fn the_admin_scope_is_only_for_admins_when_a_user_makes_their_own_token() {
    let app = app().await;
    let bot = add_user_with_password(&app, "bot", PASSWORD, false).await;
    let refused = personal_sessions::check(&Request {
        owner: PersonalSessionOwner::User(bot.id),
        actor: &bot,
        human_name: "bot",
        scope: "urn:mas:admin",
        expires_in: None,
        may_grant_admin: false,
    });
    assert!(matches!(
        refused,
        Err(personal_sessions::Problem::AdminScopeNotAllowed(_))
    ));
}

/// `POST /api/account/v1/allow-cross-signing-reset` with `token`, if any.
async fn allow_reset(
    app: &TestApp,
    token: Option<&str>,
) -> (axum::http::StatusCode, serde_json::Value) {
    let mut request = axum::http::Request::builder()
        .method("POST")
        .uri("/api/account/v1/allow-cross-signing-reset")
        .header("origin", "https://bot.example.org");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app
        .send(request.body(axum::body::Body::empty()).expect("a request"))
        .await;
    let status = response.status();
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .and_then(|value| value.to_str().ok()),
        Some("*"),
        "an API for any origin"
    );
    (status, crate::common::body_json(response).await)
}

#[tokio::test]
async fn a_bot_opens_its_own_cross_signing_reset_window_only_with_the_dedicated_scope() {
    let app = app().await;
    let bot = add_user_with_password(&app, "bot", PASSWORD, false).await;
    portcullis_homeserver::HomeserverConnection::provision_user(
        app.homeserver.as_ref(),
        &portcullis_homeserver::ProvisionRequest::new("bot"),
    )
    .await
    .expect("the bot exists on the homeserver");
    let allowed = |app: &TestApp| {
        app.homeserver
            .user("bot")
            .expect("on the homeserver")
            .cross_signing_reset_allowed
    };

    let (_, plain) = personal_token(&app, &bot, "urn:matrix:client:api:*", None).await;
    let (status, body) = allow_reset(&app, Some(&plain)).await;
    assert_eq!(status, axum::http::StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "insufficient_scope");
    assert!(!allowed(&app));

    let (status, body) = allow_reset(&app, None).await;
    assert_eq!(status, axum::http::StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = allow_reset(&app, Some("mpt_not_a_token")).await;
    assert_eq!(status, axum::http::StatusCode::UNAUTHORIZED);

    let (_, resetting) = personal_token(
        &app,
        &bot,
        "urn:matrix:client:api:* urn:portcullis:account:cross_signing_reset",
        None,
    )
    .await;
    let (status, body) = allow_reset(&app, Some(&resetting)).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    assert!(allowed(&app), "the homeserver's window is open");

    // A locked bot cannot.
    lock(&app, &bot).await;
    let (status, _) = allow_reset(&app, Some(&resetting)).await;
    assert_eq!(status, axum::http::StatusCode::UNAUTHORIZED);
}
