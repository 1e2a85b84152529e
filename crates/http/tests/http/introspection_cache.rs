//! What introspection read about an access token answers for it again for a moment, without
//! the database; a change this process commits, the passing of that moment, or the token's
//! expiry makes it read again.

use crate::common::{
    TestApp, app,
    oauth::{
        Authorization, VERIFIER, add_client, consented_code, exchange, is_active, lock, sign_in,
        tokens, wait_until_used,
    },
};
use chrono::TimeDelta;
use portcullis_services::introspection::FRESH_FOR;

/// Alice's access token, introspected once after its first use was recorded (which is a
/// write, and makes the cache read it again), so that the cache now holds it as it stays.
async fn cached_token(app: &TestApp) -> (String, portcullis_model::User) {
    let client = add_client(app, "app", "none", &["authorization_code"]).await;
    let alice = sign_in(app, "alice").await;
    let code = consented_code(app, &client, &alice, &Authorization::default()).await;
    let body = tokens(exchange(app, "app", None, &code.code, Some(VERIFIER)).await).await;
    let token = body["access_token"].as_str().expect("access").to_owned();
    assert!(is_active(app, &token).await);
    wait_until_used(app, &token).await;
    assert!(is_active(app, &token).await);
    (token, alice.user)
}

async fn introspection_status(app: &TestApp, token: &str) -> axum::http::StatusCode {
    app.send(crate::common::oauth::post_form_with_auth(
        "/oauth2/introspect",
        &format!("Bearer {}", crate::common::HOMESERVER_SECRET),
        &[("token", token)],
    ))
    .await
    .status()
}

#[tokio::test]
async fn a_token_just_read_is_answered_again_without_the_database_for_a_moment_only() {
    let app = app().await;
    let (token, _) = cached_token(&app).await;
    assert_eq!(app.state.access_token_cache().len(), 1);
    app.database.close().await;

    assert!(is_active(&app, &token).await);

    // Once the moment has passed, the database is asked again: closed, it fails.
    app.clock.advance(FRESH_FOR);
    assert!(introspection_status(&app, &token).await.is_server_error());
}

#[tokio::test]
async fn a_change_this_process_commits_is_seen_by_the_next_introspection() {
    let app = app().await;
    let (token, alice) = cached_token(&app).await;

    lock(&app, &alice).await;

    assert!(!is_active(&app, &token).await);
}

#[tokio::test]
async fn a_token_is_inactive_from_its_expiry_even_if_it_was_read_a_moment_before() {
    let app = app().await;
    let (token, _) = cached_token(&app).await;
    // Access tokens live five minutes: read again 0.2 s before the end.
    app.clock
        .advance(TimeDelta::minutes(5) - TimeDelta::milliseconds(200));
    assert!(is_active(&app, &token).await);

    app.clock.advance(TimeDelta::milliseconds(300));

    assert!(!is_active(&app, &token).await);
}
