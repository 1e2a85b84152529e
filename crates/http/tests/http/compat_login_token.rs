//! Login tokens an operator issued for a bot (`manage issue-login-token`), redeemed with
//! `m.login.token` at the Matrix login API: once, before they expire, for their device only.

use chrono::TimeDelta;
use portcullis_model::User;
use portcullis_services::login_tokens;
use serde_json::json;

use crate::common::{
    TestApp, add_user_with_password, app, body_json,
    compat::{PASSWORD, errcode, is_active, login},
};
use axum::http::StatusCode;

/// A token for `user` (only for `device_id`, if given) living `ttl`, as the CLI issues it.
async fn issue(app: &TestApp, user: &User, device_id: Option<&str>, ttl: TimeDelta) -> String {
    let mut repo = app.database.transaction().await.expect("tx");
    let (_, token) = login_tokens::issue(
        &mut *repo,
        user,
        device_id,
        ttl,
        &mut rand::rngs::OsRng,
        app.state.now(),
    )
    .await
    .expect("storage works")
    .expect("issued");
    repo.commit().await.expect("commit");
    token
}

async fn token_login(
    app: &TestApp,
    token: &str,
    extra: serde_json::Value,
) -> axum::http::Response<axum::body::Body> {
    let mut body = json!({"type": "m.login.token", "token": token});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    login(app, &body).await
}

#[tokio::test]
async fn a_bot_redeems_its_token_once_for_its_own_refreshable_tokens() {
    let app = app().await;
    let bot = add_user_with_password(&app, "bot", PASSWORD, false).await;
    let token = issue(&app, &bot, None, login_tokens::DEFAULT_TTL).await;
    assert!(token.starts_with("mlt_"), "{token}");

    let first = token_login(&app, &token, json!({"refresh_token": true})).await;
    assert_eq!(first.status(), StatusCode::OK);
    let session = body_json(first).await;
    assert_eq!(session["user_id"], "@bot:example.com");
    assert!(session["refresh_token"].is_string(), "{session}");
    let access_token = session["access_token"].as_str().expect("an access token");
    assert!(is_active(&app, access_token).await);

    // Dead from that moment.
    let second = token_login(&app, &token, json!({})).await;
    assert_eq!(errcode(second, StatusCode::FORBIDDEN).await, "M_FORBIDDEN");
    assert!(
        is_active(&app, access_token).await,
        "the first session stays"
    );
}

#[tokio::test]
async fn a_token_for_a_device_signs_in_that_device_only() {
    let app = app().await;
    let bot = add_user_with_password(&app, "bot", PASSWORD, false).await;
    let token = issue(&app, &bot, Some("BOTDEVICE1"), login_tokens::DEFAULT_TTL).await;

    let elsewhere = token_login(&app, &token, json!({"device_id": "OTHERDEVICE"})).await;
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);
    let body = body_json(elsewhere).await;
    assert_eq!(body["errcode"], "M_FORBIDDEN");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|error| error.contains("BOTDEVICE1")),
        "{body}"
    );

    // Not spent by the refusal; without a device ID, the token's own device.
    let signed_in = token_login(&app, &token, json!({})).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    assert_eq!(body_json(signed_in).await["device_id"], "BOTDEVICE1");
}

#[tokio::test]
async fn an_expired_token_or_a_locked_bot_is_refused() {
    let app = app().await;
    let bot = add_user_with_password(&app, "bot", PASSWORD, false).await;
    let token = issue(&app, &bot, None, TimeDelta::minutes(1)).await;
    app.clock.advance(TimeDelta::seconds(61));
    let expired = token_login(&app, &token, json!({})).await;
    assert_eq!(expired.status(), StatusCode::FORBIDDEN);
    assert!(
        body_json(expired).await["error"]
            .as_str()
            .is_some_and(|error| error.contains("expired"))
    );

    let token = issue(&app, &bot, None, TimeDelta::minutes(1)).await;
    let mut repo = app.database.transaction().await.expect("tx");
    repo.users()
        .lock(bot, app.state.now())
        .await
        .expect("locked");
    repo.commit().await.expect("commit");
    assert_eq!(
        errcode(
            token_login(&app, &token, json!({})).await,
            StatusCode::UNAUTHORIZED
        )
        .await,
        "M_USER_LOCKED"
    );
    assert_eq!(
        errcode(
            token_login(&app, "mlt_not_a_token", json!({})).await,
            StatusCode::FORBIDDEN
        )
        .await,
        "M_FORBIDDEN"
    );
}
