//! `POST /oauth2/introspect`, as the homeserver and as confidential clients call it.

use crate::common::{
    HOMESERVER_SECRET, TestApp, app, body_json,
    oauth::{
        Authorization, CLIENT_SECRET, VERIFIER, add_client, advance_minutes, basic, consented_code,
        exchange, introspect, lock, post_form_with_auth, sign_in, stored_access_token, tokens,
        wait_until_used,
    },
    post_form,
};
use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use serde_json::{Value, json};

const CODE_GRANTS: &[&str] = &["authorization_code", "refresh_token"];

/// Alice's tokens for the public client `app`, with the default Matrix scope.
async fn alice_tokens(app: &TestApp) -> (String, String, portcullis_model::User) {
    let client = add_client(app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(app, "alice").await;
    let code = consented_code(app, &client, &alice, &Authorization::default()).await;
    let body = tokens(exchange(app, "app", None, &code.code, Some(VERIFIER)).await).await;
    (
        body["access_token"].as_str().expect("access").to_owned(),
        body["refresh_token"].as_str().expect("refresh").to_owned(),
        alice.user,
    )
}

/// Exactly what Synapse 1.163 sends.
fn synapse_request(token: &str) -> Request<Body> {
    let mut request = post_form_with_auth(
        "/oauth2/introspect",
        &format!("Bearer {HOMESERVER_SECRET}"),
        &[("token", token), ("token_type_hint", "access_token")],
    );
    let headers = request.headers_mut();
    headers.insert(header::ACCEPT, "application/json".parse().expect("valid"));
    headers.insert("x-mas-supports-device-id", "1".parse().expect("valid"));
    headers.insert(
        header::USER_AGENT,
        "Synapse/1.163.2".parse().expect("valid"),
    );
    request
}

fn scope_tokens(answer: &Value) -> Vec<String> {
    answer["scope"]
        .as_str()
        .expect("a scope")
        .split(' ')
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_homeserver_learns_who_an_access_token_belongs_to() {
    let app = app().await;
    let (access_token, _, alice) = alice_tokens(&app).await;

    let answer = introspect(&app, &access_token).await;

    let now = app.state.now().timestamp();
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], "app");
    assert_eq!(answer["username"], "alice");
    assert_eq!(answer["sub"], alice.id.to_string());
    assert_eq!(answer["token_type"], "access_token");
    assert_eq!(answer["iat"], now);
    assert_eq!(answer["nbf"], now);
    assert_eq!(answer["exp"], now + 300);
    // The test clock is at .123456789 s and the stored expiry keeps microseconds: a bit less
    // than 300 s remain, rounded down so that no cache outlives the token.
    assert_eq!(answer["expires_in"], 299);
    let stored = stored_access_token(&app, &access_token).await;
    assert_eq!(answer["jti"], stored.id.to_string());
    // Without the header, the device is only in the scope.
    assert!(answer.get("device_id").is_none(), "{answer}");
    let scope = scope_tokens(&answer);
    for expected in [
        "openid",
        "urn:matrix:client:api:*",
        "urn:matrix:org.matrix.msc2967.client:api:*",
        "urn:matrix:client:device:ABCDEFGHIJ",
        "urn:matrix:org.matrix.msc2967.client:device:ABCDEFGHIJ",
    ] {
        assert!(
            scope.iter().any(|token| token == expected),
            "{expected} in {scope:?}"
        );
    }
}

#[tokio::test]
async fn a_homeserver_that_reads_device_id_gets_it_as_a_field() {
    let app = app().await;
    let (access_token, _, _) = alice_tokens(&app).await;

    let response = app.send(synapse_request(&access_token)).await;

    assert_eq!(response.status(), StatusCode::OK);
    let answer = body_json(response).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["device_id"], "ABCDEFGHIJ");
}

#[tokio::test]
async fn expires_in_counts_down_so_no_cache_outlives_the_token() {
    let app = app().await;
    let (access_token, _, _) = alice_tokens(&app).await;
    advance_minutes(&app, 2);

    let answer = introspect(&app, &access_token).await;

    assert_eq!(answer["active"], true);
    // Rounded down (see above).
    assert_eq!(answer["expires_in"], 179);
}

#[tokio::test]
async fn an_expired_access_token_is_inactive() {
    let app = app().await;
    let (access_token, _, _) = alice_tokens(&app).await;
    advance_minutes(&app, 6);

    assert_eq!(
        introspect(&app, &access_token).await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn a_revoked_access_token_is_inactive() {
    let app = app().await;
    let (access_token, _, _) = alice_tokens(&app).await;
    let revoked = app
        .send(post_form(
            "/oauth2/revoke",
            &[("token", &access_token), ("client_id", "app")],
        ))
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);

    assert_eq!(
        introspect(&app, &access_token).await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn the_token_of_a_locked_user_is_inactive() {
    let app = app().await;
    let (access_token, refresh_token, alice) = alice_tokens(&app).await;
    lock(&app, &alice).await;

    assert_eq!(
        introspect(&app, &access_token).await,
        json!({ "active": false })
    );
    assert_eq!(
        introspect(&app, &refresh_token).await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn a_malformed_token_is_inactive() {
    let app = app().await;

    for token in [
        "garbage",
        "mat_short_000000",
        "mat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000",
    ] {
        assert_eq!(
            introspect(&app, token).await,
            json!({ "active": false }),
            "{token}"
        );
    }
}

#[tokio::test]
async fn an_unknown_token_is_inactive() {
    let app = app().await;
    let token = portcullis_oauth::token::TokenType::AccessToken.generate(&mut rand::thread_rng());

    assert_eq!(introspect(&app, &token).await, json!({ "active": false }));
}

#[tokio::test]
async fn a_refresh_token_is_active_while_valid() {
    let app = app().await;
    let (_, refresh_token, _) = alice_tokens(&app).await;

    let response = app
        .send(post_form_with_auth(
            "/oauth2/introspect",
            &format!("Bearer {HOMESERVER_SECRET}"),
            &[("token", &refresh_token)],
        ))
        .await;

    let answer = body_json(response).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "refresh_token");
    assert_eq!(answer["username"], "alice");
    assert!(answer.get("exp").is_none(), "{answer}");
}

#[tokio::test]
async fn a_hint_that_contradicts_the_token_makes_it_inactive() {
    let app = app().await;
    let (_, refresh_token, _) = alice_tokens(&app).await;

    // `introspect` sends `token_type_hint=access_token`.
    assert_eq!(
        introspect(&app, &refresh_token).await,
        json!({ "active": false })
    );
}

#[tokio::test]
async fn the_first_use_of_an_access_token_is_recorded() {
    let app = app().await;
    let (access_token, _, _) = alice_tokens(&app).await;
    assert!(
        stored_access_token(&app, &access_token)
            .await
            .first_used_at
            .is_none()
    );

    introspect(&app, &access_token).await;

    wait_until_used(&app, &access_token).await;
}

#[tokio::test]
async fn a_confidential_client_may_introspect() {
    let app = app().await;
    let (access_token, _, _) = alice_tokens(&app).await;
    add_client(&app, "resource-server", "client_secret_basic", &[]).await;

    let response = app
        .send(post_form_with_auth(
            "/oauth2/introspect",
            &basic("resource-server", CLIENT_SECRET),
            &[("token", &access_token)],
        ))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_json(response).await["active"], true);
}

#[tokio::test]
async fn a_public_client_may_not_introspect() {
    let app = app().await;
    let (access_token, _, _) = alice_tokens(&app).await;

    let response = app
        .send(post_form(
            "/oauth2/introspect",
            &[("token", &access_token), ("client_id", "app")],
        ))
        .await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(response).await["error"], "invalid_client");
}

#[tokio::test]
async fn introspection_without_credentials_is_refused() {
    let app = app().await;
    let (access_token, _, _) = alice_tokens(&app).await;

    let response = app
        .send(post_form("/oauth2/introspect", &[("token", &access_token)]))
        .await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(response).await["error"], "invalid_client");
}

#[tokio::test]
async fn introspection_with_a_wrong_homeserver_secret_is_refused() {
    let app = app().await;
    let (access_token, _, _) = alice_tokens(&app).await;

    let response = app
        .send(post_form_with_auth(
            "/oauth2/introspect",
            "Bearer not-the-secret",
            &[("token", &access_token)],
        ))
        .await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(response).await["error"], "invalid_client");
}
