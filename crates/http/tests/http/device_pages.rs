//! The browser side of the device authorization grant: `/link` and `/device/{id}`.

use crate::common::{TestApp, app, browser::Browser};
use axum::http::StatusCode;
use portcullis_model::{DeviceCodeGrantStage, OAuthClient};
use portcullis_oauth::token::UserCode;
use portcullis_storage::NewDeviceCodeGrant;

async fn add_user(app: &TestApp, username: &str, password: &str) {
    crate::common::add_user_with_password(app, username, password, false).await;
}

/// A device grant of a new client, with its user code.
async fn add_device_grant(app: &TestApp) -> (ulid::Ulid, UserCode) {
    let now = app.state.now();
    let client = OAuthClient {
        id: ulid::Ulid::new(),
        client_id: "tv-app".to_owned(),
        is_static: true,
        client_auth_method: "none".parse().expect("valid"),
        client_name: Some("Living Room TV".to_owned()),
        grant_types: vec![
            "urn:ietf:params:oauth:grant-type:device_code"
                .parse()
                .expect("valid"),
        ],
        created_at: now,
        ..OAuthClient::default()
    };
    let user_code = UserCode::generate(&mut rand::thread_rng());
    let mut repo = app.database.transaction().await.expect("tx");
    let client = repo
        .oauth_clients()
        .upsert_static(&client)
        .await
        .expect("client");
    let grant = repo
        .oauth_device_code_grants()
        .add(
            &NewDeviceCodeGrant {
                client_id: client.id,
                scope: "openid urn:matrix:client:api:*".parse().expect("a scope"),
                expires_at: now + chrono::TimeDelta::minutes(20),
                ip: None,
                user_agent: None,
            },
            "the-device-code",
            user_code.as_str(),
            now,
        )
        .await
        .expect("grant");
    repo.commit().await.expect("commit");
    (grant.id, user_code)
}

async fn stage(app: &TestApp, id: ulid::Ulid) -> DeviceCodeGrantStage {
    let mut repo = app.database.transaction().await.expect("tx");
    repo.oauth_device_code_grants()
        .find(id)
        .await
        .expect("ok")
        .expect("grant")
        .stage
}

#[tokio::test]
async fn the_user_types_the_code_signs_in_and_approves_the_device() {
    let app = app().await;
    add_user(&app, "alice", "correct horse battery staple").await;
    let (id, code) = add_device_grant(&app).await;
    let mut browser = Browser::new(&app);

    // Typed in lower case, with the dash: still the same code.
    let typed = code.to_string().to_lowercase();
    let link = browser.get(&format!("/link?code={typed}")).await;
    assert_eq!(link.status, StatusCode::SEE_OTHER, "{}", link.body);
    let to_login = browser.get(&link.location_path()).await;
    let login_path = to_login.location_path();
    assert!(login_path.starts_with("/login"), "{login_path}");
    let form = browser.get(&login_path).await;
    let csrf = form.field("csrf").expect("csrf");
    let signed_in = browser
        .post(
            &login_path,
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", "correct horse battery staple"),
            ],
        )
        .await;
    let consent_path = signed_in.location_path();
    assert!(
        consent_path.starts_with(&format!("/device/{id}")),
        "{consent_path}"
    );

    let consent = browser.get(&consent_path).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    assert!(
        consent.body.contains(&code.to_string()),
        "the page shows the code to compare"
    );
    assert!(consent.body.contains("Living Room TV"));
    let csrf = consent.field("csrf").expect("csrf");
    let done = browser
        .post(&consent_path, &[("csrf", &csrf), ("action", "allow")])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Device connected"));
    assert!(matches!(
        stage(&app, id).await,
        DeviceCodeGrantStage::Fulfilled { .. }
    ));

    // The code is bound to that first approval.
    let again = browser
        .post(&consent_path, &[("csrf", &csrf), ("action", "deny")])
        .await;
    assert_ne!(again.status, StatusCode::OK);
    assert!(matches!(
        stage(&app, id).await,
        DeviceCodeGrantStage::Fulfilled { .. }
    ));
}

#[tokio::test]
async fn a_refused_device_is_recorded_as_rejected() {
    let app = app().await;
    add_user(&app, "alice", "correct horse battery staple").await;
    let (id, code) = add_device_grant(&app).await;
    let mut browser = Browser::new(&app);
    let login = browser
        .get(&format!(
            "/login?kind=continue_device_code_grant&id={id}&code={code}"
        ))
        .await;
    let csrf = login.field("csrf").expect("csrf");
    let signed_in = browser
        .post(
            &format!("/login?kind=continue_device_code_grant&id={id}&code={code}"),
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", "correct horse battery staple"),
            ],
        )
        .await;
    let consent = browser.get(&signed_in.location_path()).await;
    let csrf = consent.field("csrf").expect("csrf");

    let done = browser
        .post(
            &signed_in.location_path(),
            &[("csrf", &csrf), ("action", "deny")],
        )
        .await;

    assert!(done.body.contains("Device refused"), "{}", done.body);
    assert!(matches!(
        stage(&app, id).await,
        DeviceCodeGrantStage::Rejected { .. }
    ));
}

#[tokio::test]
async fn a_wrong_code_is_refused_with_a_readable_message() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/link?code=BCDF-GHJK").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("not valid"));
    let garbage = browser.get("/link?code=%3Cscript%3E").await;
    assert_eq!(garbage.status, StatusCode::NOT_FOUND);
    assert!(!garbage.body.contains("<script>"), "escaped");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = app().await;
    let (_, code) = add_device_grant(&app).await;
    app.clock.advance(chrono::TimeDelta::minutes(21));
    let mut browser = Browser::new(&app);
    let page = browser.get(&format!("/link?code={code}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_approval_page_needs_the_grants_own_code() {
    let app = app().await;
    add_user(&app, "alice", "correct horse battery staple").await;
    let (id, _) = add_device_grant(&app).await;
    let mut browser = Browser::new(&app);
    let login = browser.get("/login").await;
    let csrf = login.field("csrf").expect("csrf");
    browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", "correct horse battery staple"),
            ],
        )
        .await;

    // Guessing a grant id is not enough: without its user code the page sends you to /link.
    let page = browser.get(&format!("/device/{id}?code=BCDF-GHJK")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location_path(), "/link");
}

#[tokio::test]
async fn the_link_page_is_a_form_with_a_labelled_code_field() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/link").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<label for=\"code\""));
}

#[tokio::test]
async fn guessing_codes_is_cut_short_even_for_a_right_guess() {
    let app = app().await;
    let (_, code) = add_device_grant(&app).await;
    let mut browser = Browser::new(&app);
    for _ in 0..10 {
        let page = browser.get("/link?code=BCDF-GHJK").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
    }
    let limited = browser.get("/link?code=BCDF-GHJK").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.get("retry-after").is_some());
    let right = browser.get(&format!("/link?code={code}")).await;
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "over the limit, even the right code waits"
    );
}
