//! Single sign-on through the Matrix login API: the redirect, the consent page, and the login
//! token exchanged at `/login`.

use crate::common::{
    TestApp, add_user_with_password, app, body_json,
    browser::{Browser, Page},
    compat::{PASSWORD, errcode, is_active, login},
};
use axum::http::StatusCode;
use portcullis_model::User;
use serde_json::json;

const REDIRECT: &str = "/_matrix/client/v3/login/sso/redirect";
const CLIENT: &str = "https://app.example.org/sso-callback?state=abc";

fn redirect_path(redirect_url: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(redirect_url.as_bytes()).collect();
    format!("{REDIRECT}?redirectUrl={encoded}")
}

/// Starts a single sign-on in `browser` and follows it to where the browser lands first.
async fn start(browser: &mut Browser<'_>, redirect_url: &str) -> Page {
    let started = browser.get(&redirect_path(redirect_url)).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let location = started.location.clone().expect("a redirect");
    assert!(
        location.starts_with("https://auth.example.com/complete-compat-sso/"),
        "{location}"
    );
    started
}

/// Signs in on the login page the browser was sent to, and returns where it goes next.
async fn sign_in_on(browser: &mut Browser<'_>, login_path: &str) -> String {
    let form = browser.get(login_path).await;
    let csrf = form.field("csrf").expect("csrf");
    let signed_in = browser
        .post(
            login_path,
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    signed_in.location_path()
}

/// The whole browser side, up to the redirect to the client; returns the consent page's path
/// and the client's URL with the login token.
async fn allowed(app: &TestApp, redirect_url: &str) -> (String, url::Url) {
    allowed_naming(app, redirect_url, "app.example.org").await
}

/// [`allowed`], checking that the consent page names the application `name`.
async fn allowed_naming(app: &TestApp, redirect_url: &str, name: &str) -> (String, url::Url) {
    let mut browser = Browser::new(app);
    let started = start(&mut browser, redirect_url).await;
    let complete_path = started.location_path();

    let to_login = browser.get(&complete_path).await;
    assert_eq!(to_login.status, StatusCode::SEE_OTHER, "{}", to_login.body);
    let login_path = to_login.location_path();
    assert!(
        login_path.starts_with("/login?kind=continue_compat_sso_login&id="),
        "{login_path}"
    );
    let back = sign_in_on(&mut browser, &login_path).await;
    assert_eq!(back, complete_path);

    let consent = browser.get(&complete_path).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    assert!(
        consent
            .body
            .contains(&format!("{name}</span> wants to sign in to your account")),
        "{}",
        consent.body
    );
    assert!(consent.body.contains("<strong>alice</strong>"));
    let csrf = consent.field("csrf").expect("csrf");
    let done = browser
        .post(&complete_path, &[("csrf", &csrf), ("action", "allow")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let to_client: url::Url = done.location.expect("a redirect").parse().expect("a URL");
    (complete_path, to_client)
}

fn login_token(url: &url::Url) -> String {
    url.query_pairs()
        .find(|(key, _)| key == "loginToken")
        .map(|(_, value)| value.into_owned())
        .expect("a login token")
}

async fn token_login(app: &TestApp, token: &str) -> axum::http::Response<axum::body::Body> {
    login(app, &json!({"type": "m.login.token", "token": token})).await
}

async fn add_alice(app: &TestApp) -> User {
    add_user_with_password(app, "alice", PASSWORD, false).await
}

#[tokio::test]
async fn the_whole_flow_ends_with_a_session_on_the_browser_session() {
    let app = app().await;
    let alice = add_alice(&app).await;

    let (_, to_client) = allowed(&app, CLIENT).await;

    assert_eq!(to_client.host_str(), Some("app.example.org"));
    assert_eq!(to_client.path(), "/sso-callback");
    assert!(
        to_client
            .query()
            .is_some_and(|query| query.starts_with("state=abc&loginToken=")),
        "the client's own parameters are kept: {to_client}"
    );
    let token = login_token(&to_client);
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()));

    let response = token_login(&app, &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(response).await;
    assert_eq!(body["user_id"], "@alice:example.com");
    let device_id = body["device_id"].as_str().expect("a device");
    assert!(app.homeserver.devices("alice").contains(device_id));
    assert!(is_active(&app, body["access_token"].as_str().expect("a token")).await);

    let sessions = crate::common::compat::active_sessions(&app, &alice).await;
    assert_eq!(sessions.len(), 1);
    assert!(
        sessions[0].user_session_id.is_some(),
        "the session is linked to the browser session"
    );
}

#[tokio::test]
async fn a_login_token_works_once() {
    let app = app().await;
    add_alice(&app).await;
    let (_, to_client) = allowed(&app, CLIENT).await;
    let token = login_token(&to_client);

    assert_eq!(token_login(&app, &token).await.status(), StatusCode::OK);
    let again = token_login(&app, &token).await;

    assert_eq!(errcode(again, StatusCode::FORBIDDEN).await, "M_FORBIDDEN");
}

#[tokio::test]
async fn a_login_token_expires_30_seconds_after_the_user_allowed_it() {
    let app = app().await;
    add_alice(&app).await;
    let (_, to_client) = allowed(&app, CLIENT).await;
    let token = login_token(&to_client);

    app.clock.advance(chrono::TimeDelta::seconds(31));
    let response = token_login(&app, &token).await;

    assert_eq!(
        errcode(response, StatusCode::FORBIDDEN).await,
        "M_FORBIDDEN"
    );
}

#[tokio::test]
async fn a_login_token_within_30_seconds_is_accepted() {
    let app = app().await;
    add_alice(&app).await;
    let (_, to_client) = allowed(&app, CLIENT).await;

    app.clock.advance(chrono::TimeDelta::seconds(29));
    let response = token_login(&app, &login_token(&to_client)).await;

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_login_token_is_forbidden() {
    let app = app().await;
    let response = token_login(&app, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(
        errcode(response, StatusCode::FORBIDDEN).await,
        "M_FORBIDDEN"
    );
    let missing = login(&app, &json!({"type": "m.login.token"})).await;
    assert_eq!(
        errcode(missing, StatusCode::BAD_REQUEST).await,
        "M_BAD_JSON"
    );
}

#[tokio::test]
async fn a_login_is_allowed_once() {
    let app = app().await;
    add_alice(&app).await;
    let mut browser = Browser::new(&app);
    let started = start(&mut browser, CLIENT).await;
    let complete_path = started.location_path();
    let to_login = browser.get(&complete_path).await;
    sign_in_on(&mut browser, &to_login.location_path()).await;
    let consent = browser.get(&complete_path).await;
    let csrf = consent.field("csrf").expect("csrf");
    let done = browser
        .post(&complete_path, &[("csrf", &csrf), ("action", "allow")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);

    let again = browser.get(&complete_path).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.body.contains("already answered"), "{}", again.body);
    let replay = browser
        .post(&complete_path, &[("csrf", &csrf), ("action", "allow")])
        .await;
    assert_eq!(replay.status, StatusCode::GONE);
    assert!(replay.location.is_none());
}

#[tokio::test]
async fn cancelling_sends_no_token() {
    let app = app().await;
    add_alice(&app).await;
    let mut browser = Browser::new(&app);
    let started = start(&mut browser, CLIENT).await;
    let complete_path = started.location_path();
    let to_login = browser.get(&complete_path).await;
    sign_in_on(&mut browser, &to_login.location_path()).await;
    let consent = browser.get(&complete_path).await;
    let csrf = consent.field("csrf").expect("csrf");

    let cancelled = browser
        .post(&complete_path, &[("csrf", &csrf), ("action", "deny")])
        .await;

    assert_eq!(cancelled.status, StatusCode::OK);
    assert!(cancelled.location.is_none());
    assert!(
        cancelled.body.contains("Sign-in cancelled"),
        "{}",
        cancelled.body
    );
}

#[tokio::test]
async fn the_consent_form_needs_its_csrf_token() {
    let app = app().await;
    add_alice(&app).await;
    let mut browser = Browser::new(&app);
    let started = start(&mut browser, CLIENT).await;
    let complete_path = started.location_path();
    let to_login = browser.get(&complete_path).await;
    sign_in_on(&mut browser, &to_login.location_path()).await;

    let forged = browser
        .post(&complete_path, &[("csrf", "forged"), ("action", "allow")])
        .await;

    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.location.is_none());
}

#[tokio::test]
async fn a_login_left_for_30_minutes_expires() {
    let app = app().await;
    add_alice(&app).await;
    let mut browser = Browser::new(&app);
    let started = start(&mut browser, CLIENT).await;

    app.clock.advance(chrono::TimeDelta::minutes(31));
    let page = browser.get(&started.location_path()).await;

    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("expired"), "{}", page.body);
}

#[tokio::test]
async fn the_identity_provider_in_the_path_is_ignored() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let encoded: String = url::form_urlencoded::byte_serialize(CLIENT.as_bytes()).collect();
    for path in [
        format!("{REDIRECT}/?redirectUrl={encoded}"),
        format!("{REDIRECT}/oidc-google?redirectUrl={encoded}"),
        format!("/_matrix/client/r0/login/sso/redirect?redirectUrl={encoded}"),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
    }
}

#[tokio::test]
async fn the_redirect_url_is_required_and_checked() {
    let app = app().await;
    let missing = app
        .send(
            axum::http::Request::get(REDIRECT)
                .body(axum::body::Body::empty())
                .expect("valid"),
        )
        .await;
    assert_eq!(
        errcode(missing, StatusCode::BAD_REQUEST).await,
        "M_MISSING_PARAM"
    );

    for bad in [
        "https://user:password@app.example.org/",
        "javascript:alert(1)",
        "/relative",
    ] {
        let response = app
            .send(
                axum::http::Request::get(redirect_path(bad))
                    .body(axum::body::Body::empty())
                    .expect("valid"),
            )
            .await;
        assert_eq!(
            errcode(response, StatusCode::BAD_REQUEST).await,
            "M_INVALID_PARAM",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn an_app_scheme_gets_the_token_too() {
    let app = app().await;
    add_alice(&app).await;

    let (_, to_client) = allowed_naming(&app, "im.example.app://sso", "im.example.app").await;

    assert_eq!(to_client.scheme(), "im.example.app");
    assert_eq!(
        token_login(&app, &login_token(&to_client)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_unknown_login_id_is_not_found() {
    let app = app().await;
    add_alice(&app).await;
    let mut browser = Browser::new(&app);
    let page = browser
        .get(&format!("/complete-compat-sso/{}", ulid::Ulid::new()))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_login_flows_list_the_upstream_providers_and_an_idp_in_the_path_goes_to_it() {
    let app = app().await;
    crate::common::add_provider(&app, "pocketid", "Pocket ID", true).await;
    crate::common::add_provider(&app, "old", "Old IdP", false).await;
    let mut browser = Browser::new(&app);
    let flows = browser.get("/_matrix/client/v3/login").await;
    let flows: serde_json::Value = serde_json::from_str(&flows.body).expect("JSON");
    let sso = flows["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .find(|flow| flow["type"] == "m.login.sso")
        .expect("the SSO flow");
    assert_eq!(
        sso["identity_providers"],
        json!([{"id": "oidc-pocketid", "name": "Pocket ID", "brand": "pocketid"}])
    );

    // By its Synapse id: the provider's sign-in first, then back to allow this login.
    let encoded: String = url::form_urlencoded::byte_serialize(CLIENT.as_bytes()).collect();
    let started = browser
        .get(&format!("{REDIRECT}/oidc-pocketid?redirectUrl={encoded}"))
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let location =
        url::Url::parse(started.location.as_deref().expect("a redirect")).expect("a URL");
    assert_eq!(location.path(), "/upstream/authorize/pocketid");
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(
        query.get("kind").map(String::as_str),
        Some("continue_compat_sso_login")
    );
    assert!(query.get("id").is_some_and(|id| id.len() == 26));

    // An unknown or disabled provider is ignored, as MAS ignores them all.
    for idp in ["oidc-old", "nobody"] {
        let started = browser
            .get(&format!("{REDIRECT}/{idp}?redirectUrl={encoded}"))
            .await;
        assert_eq!(started.status, StatusCode::SEE_OTHER);
        assert!(
            started
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with("https://auth.example.com/complete-compat-sso/")),
            "{idp}: {:?}",
            started.location
        );
    }
}
