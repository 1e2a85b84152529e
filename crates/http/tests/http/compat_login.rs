//! `GET` and `POST /_matrix/client/{v3,r0}/login`: the flows, password logins, devices and
//! the rate limits.

use std::{net::SocketAddr, num::NonZeroU32, sync::Arc};

use crate::common::{
    add_user_with_password, app, app_with, body_json,
    compat::{
        LOGIN, PASSWORD, active_sessions, errcode, is_active, logged_in, login, password_body,
        post_json, run_jobs,
    },
    oauth::{
        Authorization, VERIFIER, add_client, add_email, consented_code, exchange, lock, sign_in,
        tokens,
    },
};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use portcullis_config::sections::rate_limiting::RateLimiterConfig;
use portcullis_listener::{ConnectionInfo, LocalAddr};
use serde_json::{Value, json};

async fn flow_types(app: &crate::common::TestApp, uri: &str) -> Vec<String> {
    let response = app
        .send(Request::get(uri).body(Body::empty()).expect("valid"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    body_json(response).await["flows"]
        .as_array()
        .expect("a list of flows")
        .iter()
        .map(|flow| flow["type"].as_str().expect("a type").to_owned())
        .collect()
}

#[tokio::test]
async fn the_flows_are_password_sso_and_token() {
    let app = app().await;
    assert_eq!(
        flow_types(&app, LOGIN).await,
        [
            "m.login.password",
            "m.login.sso",
            "m.login.token",
            "m.login.application_service"
        ]
    );
    assert_eq!(
        flow_types(&app, "/_matrix/client/r0/login").await,
        [
            "m.login.password",
            "m.login.sso",
            "m.login.token",
            "m.login.application_service"
        ]
    );
    let response = app
        .send(Request::get(LOGIN).body(Body::empty()).expect("valid"))
        .await;
    let sso = &body_json(response).await["flows"][1];
    assert_eq!(sso["identity_providers"], json!([]));
    assert_eq!(sso["oauth_aware_preferred"], true);
    assert_eq!(sso["org.matrix.msc3824.delegated_oidc_compatibility"], true);
}

#[tokio::test]
async fn without_passwords_there_is_no_password_flow_nor_login() {
    let app = app_with(|config| config.passwords.enabled = false).await;
    assert_eq!(
        flow_types(&app, LOGIN).await,
        [
            "m.login.sso",
            "m.login.token",
            "m.login.application_service"
        ]
    );

    let response = login(&app, &password_body("alice", &json!({}))).await;
    assert_eq!(
        errcode(response, StatusCode::BAD_REQUEST).await,
        "M_UNRECOGNIZED"
    );
}

#[tokio::test]
async fn a_password_login_by_localpart_creates_a_device_and_a_session() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;

    let body = logged_in(&app, "alice", &json!({})).await;

    assert_eq!(body["user_id"], "@alice:example.com");
    assert_eq!(body["home_server"], "example.com");
    let device_id = body["device_id"].as_str().expect("a device");
    assert_eq!(device_id.len(), 10);
    assert!(
        device_id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{device_id}"
    );
    let access_token = body["access_token"].as_str().expect("a token");
    assert!(access_token.starts_with("mct_"), "{access_token}");
    assert!(body.get("expires_in_ms").is_none(), "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");

    assert!(app.homeserver.devices("alice").contains(device_id));
    assert!(is_active(&app, access_token).await);
    let sessions = active_sessions(&app, &alice).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].device_id, device_id);
}

#[tokio::test]
async fn a_full_matrix_id_and_the_deprecated_user_field_name_the_user_too() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;

    let by_mxid = logged_in(&app, "@Alice:example.com", &json!({})).await;
    assert_eq!(by_mxid["user_id"], "@alice:example.com");

    let legacy = login(
        &app,
        &json!({"type": "m.login.password", "user": "alice", "password": PASSWORD}),
    )
    .await;
    assert_eq!(legacy.status(), StatusCode::OK);
    assert_eq!(body_json(legacy).await["user_id"], "@alice:example.com");
}

#[tokio::test]
async fn a_user_of_another_server_is_forbidden() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;

    let response = login(&app, &password_body("@alice:evil.example", &json!({}))).await;

    assert_eq!(
        errcode(response, StatusCode::FORBIDDEN).await,
        "M_FORBIDDEN"
    );
}

fn email_body(address: &str) -> Value {
    json!({
        "type": "m.login.password",
        "identifier": {"type": "m.id.thirdparty", "medium": "email", "address": address},
        "password": PASSWORD,
    })
}

#[tokio::test]
async fn an_email_address_signs_in_only_when_allowed() {
    let allowed = app_with(|config| config.account.login_with_email_allowed = true).await;
    let alice = add_user_with_password(&allowed, "alice", PASSWORD, false).await;
    add_email(&allowed, &alice, "alice@mail.example").await;
    let response = login(&allowed, &email_body("alice@mail.example")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_json(response).await["user_id"], "@alice:example.com");

    let refused = app_with(|config| config.account.login_with_email_allowed = false).await;
    let alice = add_user_with_password(&refused, "alice", PASSWORD, false).await;
    add_email(&refused, &alice, "alice@mail.example").await;
    let response = login(&refused, &email_body("alice@mail.example")).await;
    assert_eq!(
        errcode(response, StatusCode::FORBIDDEN).await,
        "M_FORBIDDEN"
    );
    assert!(active_sessions(&refused, &alice).await.is_empty());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;

    let wrong_password = login(
        &app,
        &json!({"type": "m.login.password", "user": "alice", "password": "nope"}),
    )
    .await;
    let unknown_user = login(&app, &password_body("nobody", &json!({}))).await;

    assert_eq!(wrong_password.status(), StatusCode::FORBIDDEN);
    assert_eq!(unknown_user.status(), StatusCode::FORBIDDEN);
    let (wrong_password, unknown_user) = (
        body_json(wrong_password).await,
        body_json(unknown_user).await,
    );
    assert_eq!(wrong_password["errcode"], "M_FORBIDDEN");
    assert_eq!(wrong_password, unknown_user);
    assert!(app.homeserver.devices("alice").is_empty());
}

#[tokio::test]
async fn a_locked_user_is_told_so_but_only_with_the_right_password() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;
    lock(&app, &alice).await;

    let response = login(&app, &password_body("alice", &json!({}))).await;
    assert_eq!(
        errcode(response, StatusCode::UNAUTHORIZED).await,
        "M_USER_LOCKED"
    );

    let wrong = login(
        &app,
        &json!({"type": "m.login.password", "user": "alice", "password": "nope"}),
    )
    .await;
    assert_eq!(errcode(wrong, StatusCode::FORBIDDEN).await, "M_FORBIDDEN");
    assert!(active_sessions(&app, &alice).await.is_empty());
}

#[tokio::test]
async fn while_the_homeserver_is_down_nothing_is_stored() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;
    app.homeserver.set_down(true);

    let response = login(
        &app,
        &password_body("alice", &json!({"device_id": "BOTDEVICE"})),
    )
    .await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body_json(response).await["errcode"], "M_UNKNOWN");
    assert!(active_sessions(&app, &alice).await.is_empty());

    app.homeserver.set_down(false);
    let body = logged_in(&app, "alice", &json!({"device_id": "BOTDEVICE"})).await;
    assert_eq!(body["device_id"], "BOTDEVICE");
    assert!(app.homeserver.devices("alice").contains("BOTDEVICE"));
}

#[tokio::test]
async fn logging_in_again_on_a_device_replaces_its_session_and_keeps_the_device() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;
    let first = logged_in(&app, "alice", &json!({"device_id": "BOT"})).await;
    let first_token = first["access_token"].as_str().expect("a token");

    let second = logged_in(&app, "alice", &json!({"device_id": "BOT"})).await;
    let second_token = second["access_token"].as_str().expect("a token");

    assert_eq!(second["device_id"], "BOT");
    assert!(!is_active(&app, first_token).await, "the old session ended");
    assert!(is_active(&app, second_token).await);
    let sessions = active_sessions(&app, &alice).await;
    assert_eq!(sessions.len(), 1);
    run_jobs(&app).await;
    assert!(
        app.homeserver.devices("alice").contains("BOT"),
        "the device, and its keys, stay on the homeserver"
    );
}

#[tokio::test]
async fn logging_in_on_the_device_of_an_oauth_session_ends_that_session_and_keeps_the_device() {
    let app = app().await;
    let client = add_client(
        &app,
        "app",
        "none",
        &["authorization_code", "refresh_token"],
    )
    .await;
    let alice = sign_in(&app, "alice").await;
    let (version, hashed) = app
        .state
        .passwords()
        .hash(zeroize::Zeroizing::new(PASSWORD.to_owned()))
        .await
        .expect("hashed");
    {
        let mut repo = app.database.transaction().await.expect("tx");
        repo.user_passwords()
            .add(
                &alice.user,
                &hashed,
                u32::from(version),
                None,
                app.state.now(),
            )
            .await
            .expect("password");
        repo.commit().await.expect("commit");
    }
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;
    let oauth = tokens(exchange(&app, "app", None, &code.code, Some(VERIFIER)).await).await;
    let oauth_token = oauth["access_token"].as_str().expect("a token");
    assert!(is_active(&app, oauth_token).await);

    let compat = logged_in(&app, "alice", &json!({"device_id": "ABCDEFGHIJ"})).await;

    assert!(!is_active(&app, oauth_token).await);
    assert!(is_active(&app, compat["access_token"].as_str().expect("a token")).await);
    run_jobs(&app).await;
    assert!(app.homeserver.devices("alice").contains("ABCDEFGHIJ"));
}

#[tokio::test]
async fn a_device_id_that_cannot_be_a_scope_is_refused() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;

    let response = login(
        &app,
        &password_body("alice", &json!({"device_id": "my device"})),
    )
    .await;

    assert_eq!(
        errcode(response, StatusCode::BAD_REQUEST).await,
        "M_INVALID_PARAM"
    );
    assert!(app.homeserver.devices("alice").is_empty());
}

#[tokio::test]
async fn the_initial_display_name_names_the_session() {
    let app = app().await;
    let alice = add_user_with_password(&app, "alice", PASSWORD, false).await;

    logged_in(
        &app,
        "alice",
        &json!({"initial_device_display_name": "My bot"}),
    )
    .await;

    let sessions = active_sessions(&app, &alice).await;
    assert_eq!(sessions[0].human_name.as_deref(), Some("My bot"));
}

#[tokio::test]
async fn asking_for_a_refresh_token_makes_the_access_token_expire() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;

    let body = logged_in(&app, "alice", &json!({"refresh_token": true})).await;

    assert_eq!(body["expires_in_ms"], 300_000);
    let refresh_token = body["refresh_token"].as_str().expect("a refresh token");
    assert!(refresh_token.starts_with("mcr_"), "{refresh_token}");
    let access_token = body["access_token"].as_str().expect("a token");
    app.clock.advance(chrono::TimeDelta::seconds(301));
    assert!(!is_active(&app, access_token).await);
}

#[tokio::test]
async fn malformed_requests_are_told_apart() {
    let app = app().await;
    let not_json = app
        .send(
            Request::post(LOGIN)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("type=m.login.password"))
                .expect("valid"),
        )
        .await;
    assert_eq!(
        errcode(not_json, StatusCode::BAD_REQUEST).await,
        "M_NOT_JSON"
    );

    let no_type = login(&app, &json!({"user": "alice"})).await;
    assert_eq!(
        errcode(no_type, StatusCode::BAD_REQUEST).await,
        "M_BAD_JSON"
    );

    let no_password = login(&app, &json!({"type": "m.login.password", "user": "alice"})).await;
    assert_eq!(
        errcode(no_password, StatusCode::BAD_REQUEST).await,
        "M_BAD_JSON"
    );

    let unknown = login(&app, &json!({"type": "org.example.unknown"})).await;
    assert_eq!(
        errcode(unknown, StatusCode::BAD_REQUEST).await,
        "M_UNRECOGNIZED"
    );
}

/// A login request from `ip`, as the listener would mark it.
fn from_ip(ip: [u8; 4], body: &Value) -> Request<Body> {
    let mut request = post_json(LOGIN, body);
    request.extensions_mut().insert(ConnectionInfo {
        listener: Arc::from("web"),
        local: LocalAddr::Tcp(SocketAddr::from(([127, 0, 0, 1], 8080))),
        transport_peer: Some(SocketAddr::from((ip, 40_000))),
        proxied: None,
        tls: None,
    });
    request
}

async fn assert_limited(response: axum::http::Response<Body>) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After header in seconds");
    assert!(retry_after >= 1);
    let body = body_json(response).await;
    assert_eq!(body["errcode"], "M_LIMIT_EXCEEDED");
    assert!(
        body["retry_after_ms"].as_u64().expect("a wait") > 0,
        "{body}"
    );
}

#[tokio::test]
async fn password_attempts_are_limited_per_address() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let wrong = json!({"type": "m.login.password", "user": "alice", "password": "nope"});

    // The default: 3 at once, then 3 a minute.
    for _ in 0..3 {
        let response = app.send(from_ip([203, 0, 113, 5], &wrong)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_limited(
        app.send(from_ip(
            [203, 0, 113, 5],
            &password_body("alice", &json!({})),
        ))
        .await,
    )
    .await;

    let elsewhere = app
        .send(from_ip(
            [198, 51, 100, 7],
            &password_body("alice", &json!({})),
        ))
        .await;
    assert_eq!(elsewhere.status(), StatusCode::OK);
}

#[tokio::test]
async fn password_attempts_are_limited_per_account() {
    let app = app_with(|config| {
        config.rate_limiting.login.per_account = RateLimiterConfig {
            burst: NonZeroU32::new(2).expect("not zero"),
            per_second: 1.0 / 60.0,
        };
    })
    .await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let wrong = json!({"type": "m.login.password", "user": "alice", "password": "nope"});

    for ip in [[203, 0, 113, 1], [203, 0, 113, 2]] {
        let response = app.send(from_ip(ip, &wrong)).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_limited(
        app.send(from_ip(
            [203, 0, 113, 3],
            &password_body("alice", &json!({})),
        ))
        .await,
    )
    .await;
}

#[tokio::test]
async fn web_clients_may_call_the_api_from_any_origin() {
    let app = app().await;
    let preflight = app
        .send(
            Request::builder()
                .method(Method::OPTIONS)
                .uri(LOGIN)
                .header(header::ORIGIN, "https://app.example.org")
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
                .body(Body::empty())
                .expect("valid"),
        )
        .await;
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .and_then(|value| value.to_str().ok()),
        Some("*")
    );

    let flows = app
        .send(
            Request::get(LOGIN)
                .header(header::ORIGIN, "https://app.example.org")
                .body(Body::empty())
                .expect("valid"),
        )
        .await;
    assert_eq!(
        flows
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .and_then(|value| value.to_str().ok()),
        Some("*")
    );
}

#[tokio::test]
async fn a_password_hashed_by_an_older_scheme_is_upgraded_at_login() {
    let app = app_with(|config| {
        let mut newer = config.passwords.schemes[0].clone();
        newer.version = 2;
        config.passwords.schemes.push(newer);
    })
    .await;
    let old_scheme = portcullis_passwords::PasswordManager::new(
        &portcullis_config::sections::passwords::PasswordsConfig::default(),
    )
    .expect("the default scheme");
    let (version, hashed) = old_scheme
        .hash(zeroize::Zeroizing::new(PASSWORD.to_owned()))
        .await
        .expect("hashed");
    assert_eq!(version, 1);
    let mut repo = app.database.transaction().await.expect("tx");
    let alice = repo
        .users()
        .add("alice", app.state.now())
        .await
        .expect("user");
    let old = repo
        .user_passwords()
        .add(&alice, &hashed, 1, None, app.state.now())
        .await
        .expect("password");
    repo.commit().await.expect("commit");
    // The newest hash is the user's password: let the upgrade be newer than the original.
    app.clock.advance(chrono::TimeDelta::seconds(1));

    logged_in(&app, "alice", &json!({})).await;

    let mut repo = app.database.transaction().await.expect("tx");
    let current = repo
        .user_passwords()
        .active(&alice)
        .await
        .expect("read")
        .expect("a password");
    repo.rollback().await.expect("rollback");
    assert_eq!(current.version, 2);
    assert_eq!(current.upgraded_from_id, Some(old.id));
    // And the new hash works.
    logged_in(&app, "alice", &json!({})).await;
}
