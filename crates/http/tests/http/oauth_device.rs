//! The device authorization grant through the router: `POST /oauth2/device`, the approval
//! pages, and polling the token endpoint (RFC 8628).

use crate::common::{
    TestApp, app, app_with, body_json, body_text,
    browser::{Browser, Page},
    oauth::{CLIENT_SECRET, add_client, basic, introspect, post_form_with_auth, tokens},
    post_form,
};
use axum::{
    body::Body,
    http::{Request, Response, StatusCode, header},
};
use chrono::TimeDelta;
use portcullis_model::{DeviceCodeGrant, DeviceCodeGrantStage, OAuthClient};
use portcullis_oauth::id_token::{HashAlg, half_hash};
use serde_json::Value;
use tower::ServiceExt as _;
use zeroize::Zeroizing;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const TV: &str = "living-room-tv";
const SCOPE: &str = "openid urn:matrix:client:api:* urn:matrix:client:device:LIVINGROOMTV";
const PASSWORD: &str = "correct horse battery staple";

/// A public client with the device grant and refresh tokens, and a user who can approve.
async fn setup(app: &TestApp) -> OAuthClient {
    add_user(app, "alice").await;
    add_client(app, TV, "none", &[DEVICE_GRANT, "refresh_token"]).await
}

async fn add_user(app: &TestApp, username: &str) {
    let (version, hashed) = app
        .state
        .passwords()
        .hash(Zeroizing::new(PASSWORD.to_owned()))
        .await
        .expect("hashes");
    let now = app.state.now();
    let mut repo = app.database.transaction().await.expect("tx");
    let user = repo.users().add(username, now).await.expect("user added");
    repo.user_passwords()
        .add(&user, &hashed, u32::from(version), None, now)
        .await
        .expect("password added");
    repo.commit().await.expect("commit");
}

/// `POST /oauth2/device` for the public client `client_id`.
async fn ask(app: &TestApp, client_id: &str, scope: &str) -> Response<Body> {
    let mut request = post_form(
        "/oauth2/device",
        &[("client_id", client_id), ("scope", scope)],
    );
    request.headers_mut().insert(
        header::USER_AGENT,
        "LivingRoomTV/1.0".parse().expect("valid header"),
    );
    app.send(request).await
}

/// A started device authorization: the JSON answer.
async fn start(app: &TestApp, client_id: &str, scope: &str) -> Value {
    let response = ask(app, client_id, scope).await;
    let status = response.status();
    let body = body_json(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// One poll of the token endpoint by the public client `client_id`.
async fn poll(app: &TestApp, client_id: &str, device_code: &str) -> Response<Body> {
    app.send(post_form(
        "/oauth2/token",
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", client_id),
        ],
    ))
    .await
}

/// The `error` of a poll's answer, after checking it is a 400.
async fn poll_error(app: &TestApp, client_id: &str, device_code: &str) -> String {
    let response = poll(app, client_id, device_code).await;
    let status = response.status();
    let body = body_json(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    body["error"].as_str().expect("an error code").to_owned()
}

/// What the user does in their browser: types `user_code` at `/link`, signs in as alice, and
/// answers `action` (`allow` or `deny`) on the approval page. Returns that last page.
async fn answer_in_browser(app: &TestApp, user_code: &str, action: &str) -> Page {
    let mut browser = Browser::new(app);
    let link = browser.get(&format!("/link?code={user_code}")).await;
    assert_eq!(link.status, StatusCode::SEE_OTHER, "{}", link.body);
    let to_login = browser.get(&link.location_path()).await;
    let login_path = to_login.location_path();
    let form = browser.get(&login_path).await;
    let csrf = form.field("csrf").expect("csrf");
    let signed_in = browser
        .post(
            &login_path,
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let consent_path = signed_in.location_path();
    let consent = browser.get(&consent_path).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    let csrf = consent.field("csrf").expect("csrf");
    browser
        .post(&consent_path, &[("csrf", &csrf), ("action", action)])
        .await
}

/// The stored grant of `device_code`.
async fn stored_grant(app: &TestApp, device_code: &str) -> DeviceCodeGrant {
    let mut repo = app.database.transaction().await.expect("tx");
    let grant = repo
        .oauth_device_code_grants()
        .find_by_device_code(device_code)
        .await
        .expect("lookup")
        .expect("the grant exists");
    repo.rollback().await.expect("rollback");
    grant
}

fn text<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap_or_default()
}

/// Moves past the poll interval.
fn wait_interval(app: &TestApp) {
    app.clock.advance(TimeDelta::seconds(5));
}

#[tokio::test]
async fn device_authorization_answers_both_codes_where_to_type_them_and_how_often_to_poll() {
    let app = app().await;
    setup(&app).await;

    let response = ask(&app, TV, SCOPE).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.as_bytes()),
        Some(b"no-store".as_slice())
    );
    let body = body_json(response).await;
    let device_code = text(&body, "device_code");
    assert!(device_code.len() >= 32, "{body}");
    assert!(device_code.bytes().all(|b| b.is_ascii_alphanumeric()));
    let user_code = text(&body, "user_code");
    assert_eq!(user_code.len(), 9, "{body}");
    assert_eq!(user_code.as_bytes()[4], b'-', "shown as XXXX-XXXX");
    assert_eq!(body["verification_uri"], "https://auth.example.com/link");
    assert!(body.get("verification_uri_complete").is_none(), "{body}");
    assert_eq!(body["expires_in"], 1200);
    assert_eq!(body["interval"], 5);

    let grant = stored_grant(&app, device_code).await;
    assert_eq!(grant.stage, DeviceCodeGrantStage::Pending);
    assert_eq!(grant.scope.to_string(), SCOPE);
    assert_eq!(grant.user_agent.as_deref(), Some("LivingRoomTV/1.0"));
}

#[tokio::test]
async fn the_complete_verification_uri_is_offered_only_when_auto_fill_is_enabled() {
    let app = app_with(|config| config.oauth.device_code_user_code_auto_fill_enabled = true).await;
    setup(&app).await;

    let body = start(&app, TV, SCOPE).await;

    assert_eq!(
        text(&body, "verification_uri_complete"),
        format!(
            "https://auth.example.com/link?code={}",
            text(&body, "user_code")
        )
    );
}

#[tokio::test]
async fn the_discovery_document_points_at_the_device_authorization_route() {
    let app = app().await;
    let response = app
        .send(
            Request::get("/.well-known/openid-configuration")
                .body(Body::empty())
                .expect("valid request"),
        )
        .await;
    let metadata = body_json(response).await;
    let endpoint = text(&metadata, "device_authorization_endpoint");
    assert_eq!(endpoint, "https://auth.example.com/oauth2/device");
    setup(&app).await;
    let path = endpoint.trim_start_matches("https://auth.example.com");
    let answer = app
        .send(post_form(path, &[("client_id", TV), ("scope", "openid")]))
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_device_gets_tokens_once_the_user_approves_and_is_slowed_down_if_too_eager() {
    let app = app().await;
    setup(&app).await;
    let started = start(&app, TV, SCOPE).await;
    let device_code = text(&started, "device_code");

    assert_eq!(
        poll_error(&app, TV, device_code).await,
        "authorization_pending"
    );
    let done = answer_in_browser(&app, text(&started, "user_code"), "allow").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);

    // Polled again at once: the interval is not over.
    assert_eq!(poll_error(&app, TV, device_code).await, "slow_down");
    wait_interval(&app);
    let response = poll(&app, TV, device_code).await;
    assert_eq!(
        response
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.as_bytes()),
        Some(b"no-store".as_slice())
    );
    let body = tokens(response).await;

    let access_token = text(&body, "access_token");
    assert!(access_token.starts_with("mat_"), "{body}");
    assert!(text(&body, "refresh_token").starts_with("mar_"), "{body}");
    assert!(!text(&body, "id_token").is_empty(), "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], SCOPE);
    let introspected = introspect(&app, access_token).await;
    assert_eq!(introspected["active"], true, "{introspected}");
    assert_eq!(introspected["username"], "alice");
    assert!(
        text(&introspected, "scope").contains("urn:matrix:client:device:LIVINGROOMTV"),
        "{introspected}"
    );
    assert!(matches!(
        stored_grant(&app, device_code).await.stage,
        DeviceCodeGrantStage::Exchanged { .. }
    ));
}

#[tokio::test]
async fn the_id_token_is_about_the_approving_user_and_signed_for_the_device_client() {
    let app = app().await;
    setup(&app).await;
    let started = start(&app, TV, SCOPE).await;
    answer_in_browser(&app, text(&started, "user_code"), "allow").await;

    let body = tokens(poll(&app, TV, text(&started, "device_code")).await).await;

    let jwks = body_text(
        app.send(
            Request::get("/oauth2/keys.json")
                .body(Body::empty())
                .expect("request"),
        )
        .await,
    )
    .await;
    let claims = portcullis_keys::verify_jwt(&jwks, text(&body, "id_token"))
        .expect("signed by a published key");
    let mut repo = app.database.transaction().await.expect("tx");
    let alice = repo
        .users()
        .find_by_username("alice")
        .await
        .expect("lookup")
        .expect("alice exists");
    repo.rollback().await.expect("rollback");
    assert_eq!(claims["sub"], alice.id.to_string());
    assert_eq!(claims["aud"], TV);
    assert_eq!(
        claims["at_hash"],
        half_hash(HashAlg::Sha256, text(&body, "access_token"))
    );
    assert!(claims.get("nonce").is_none(), "{claims}");
    assert!(claims.get("c_hash").is_none(), "{claims}");
}

#[tokio::test]
async fn a_client_without_the_refresh_token_grant_gets_no_refresh_token_nor_id_token_without_openid()
 {
    let app = app().await;
    add_user(&app, "alice").await;
    add_client(&app, TV, "none", &[DEVICE_GRANT]).await;
    let started = start(&app, TV, "urn:matrix:client:api:*").await;
    answer_in_browser(&app, text(&started, "user_code"), "allow").await;

    let body = tokens(poll(&app, TV, text(&started, "device_code")).await).await;

    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body.get("id_token").is_none(), "{body}");
}

#[tokio::test]
async fn a_refused_device_is_told_access_denied() {
    let app = app().await;
    setup(&app).await;
    let started = start(&app, TV, SCOPE).await;

    let done = answer_in_browser(&app, text(&started, "user_code"), "deny").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);

    assert_eq!(
        poll_error(&app, TV, text(&started, "device_code")).await,
        "access_denied"
    );
}

#[tokio::test]
async fn an_expired_device_code_is_told_expired_token() {
    let app = app().await;
    setup(&app).await;
    let started = start(&app, TV, SCOPE).await;

    app.clock.advance(TimeDelta::minutes(20));

    assert_eq!(
        poll_error(&app, TV, text(&started, "device_code")).await,
        "expired_token"
    );
}

#[tokio::test]
async fn an_approved_device_code_that_expired_before_the_poll_gives_no_tokens() {
    let app = app().await;
    setup(&app).await;
    let started = start(&app, TV, SCOPE).await;
    answer_in_browser(&app, text(&started, "user_code"), "allow").await;

    app.clock.advance(TimeDelta::minutes(21));

    assert_eq!(
        poll_error(&app, TV, text(&started, "device_code")).await,
        "expired_token"
    );
}

#[tokio::test]
async fn a_device_code_gives_tokens_only_once() {
    let app = app().await;
    setup(&app).await;
    let started = start(&app, TV, SCOPE).await;
    let device_code = text(&started, "device_code");
    answer_in_browser(&app, text(&started, "user_code"), "allow").await;
    let first = tokens(poll(&app, TV, device_code).await).await;

    // At once, and again after the interval: a spent code is spent.
    assert_eq!(poll_error(&app, TV, device_code).await, "invalid_grant");
    wait_interval(&app);
    assert_eq!(poll_error(&app, TV, device_code).await, "invalid_grant");

    // The tokens given the first time are untouched.
    let introspected = introspect(&app, text(&first, "access_token")).await;
    assert_eq!(introspected["active"], true);
}

#[tokio::test]
async fn another_clients_device_code_is_an_invalid_grant() {
    let app = app().await;
    setup(&app).await;
    add_client(&app, "thief", "none", &[DEVICE_GRANT]).await;
    let started = start(&app, TV, SCOPE).await;
    let device_code = text(&started, "device_code");
    answer_in_browser(&app, text(&started, "user_code"), "allow").await;

    assert_eq!(
        poll_error(&app, "thief", device_code).await,
        "invalid_grant"
    );

    // The thief's attempt neither spent the code nor slowed the device down.
    assert!(matches!(
        stored_grant(&app, device_code).await.stage,
        DeviceCodeGrantStage::Fulfilled { .. }
    ));
    tokens(poll(&app, TV, device_code).await).await;
}

#[tokio::test]
async fn an_unknown_device_code_is_an_invalid_grant() {
    let app = app().await;
    setup(&app).await;

    assert_eq!(
        poll_error(&app, TV, "0123456789abcdefghijABCDEFGHIJ01").await,
        "invalid_grant"
    );
}

#[tokio::test]
async fn twenty_polls_racing_after_the_approval_get_tokens_exactly_once() {
    let app = app().await;
    setup(&app).await;
    let started = start(&app, TV, SCOPE).await;
    let device_code = text(&started, "device_code").to_owned();
    answer_in_browser(&app, text(&started, "user_code"), "allow").await;

    let router = app.router();
    let polls = (0..20).map(|_| {
        let request = post_form(
            "/oauth2/token",
            &[
                ("grant_type", DEVICE_GRANT),
                ("device_code", &device_code),
                ("client_id", TV),
            ],
        );
        tokio::spawn(router.clone().oneshot(request))
    });
    let mut granted = 0;
    for handle in polls.collect::<Vec<_>>() {
        let response = handle.await.expect("the task ran").expect("infallible");
        if response.status() == StatusCode::OK {
            granted += 1;
        } else {
            let body = body_json(response).await;
            assert!(
                body["error"] == "slow_down" || body["error"] == "invalid_grant",
                "{body}"
            );
        }
    }

    assert_eq!(granted, 1);
}

#[tokio::test]
async fn admin_scopes_may_be_asked_for_but_the_policy_refuses_them_to_a_non_admin() {
    let app = app().await;
    setup(&app).await;
    let scope = "urn:matrix:client:api:* urn:synapse:admin:*";
    let started = start(&app, TV, scope).await;

    let page = answer_in_browser(&app, text(&started, "user_code"), "allow").await;

    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains("urn:synapse:admin:*"), "{}", page.body);
    // The refusal ends the grant: the device is told so.
    assert_eq!(
        poll_error(&app, TV, text(&started, "device_code")).await,
        "access_denied"
    );
}

#[tokio::test]
async fn a_malformed_or_contradictory_scope_is_refused_at_the_start() {
    let app = app().await;
    setup(&app).await;

    for scope in [
        "openid  urn:matrix:client:api:*",
        "urn:matrix:client:api:* urn:matrix:client:device:AAAAAAAAAA urn:matrix:client:device:BBBBBBBBBB",
    ] {
        let response = ask(&app, TV, scope).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{scope}");
        assert_eq!(
            body_json(response).await["error"],
            "invalid_scope",
            "{scope}"
        );
    }
}

#[tokio::test]
async fn a_client_without_the_device_grant_may_not_start_one_nor_poll() {
    let app = app().await;
    add_client(&app, "web-app", "none", &["authorization_code"]).await;

    let response = ask(&app, "web-app", SCOPE).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(response).await["error"], "unauthorized_client");

    let response = poll(&app, "web-app", "0123456789abcdefghijABCDEFGHIJ01").await;
    assert_eq!(body_json(response).await["error"], "unauthorized_client");
}

#[tokio::test]
async fn a_confidential_client_authenticates_at_the_device_endpoint() {
    let app = app().await;
    add_client(&app, "set-top-box", "client_secret_basic", &[DEVICE_GRANT]).await;

    let refused = app
        .send(post_form_with_auth(
            "/oauth2/device",
            &basic("set-top-box", "not-the-secret"),
            &[("scope", "openid")],
        ))
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(refused).await["error"], "invalid_client");

    let accepted = app
        .send(post_form_with_auth(
            "/oauth2/device",
            &basic("set-top-box", CLIENT_SECRET),
            &[("scope", "openid")],
        ))
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_disabled_device_grant_is_neither_started_nor_redeemed() {
    let app = app_with(|config| config.oauth.device_code_grant_enabled = false).await;
    setup(&app).await;

    let response = ask(&app, TV, SCOPE).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(response).await["error"], "unsupported_grant_type");

    let response = poll(&app, TV, "0123456789abcdefghijABCDEFGHIJ01").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(response).await["error"], "unsupported_grant_type");
}
