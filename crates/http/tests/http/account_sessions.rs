//! `/account/sessions` and `/account/devices/{id}`: listing the user's sessions of every kind
//! and ending them, and only theirs.

use crate::common::{
    TestApp,
    account::{PASSWORD, csrf_of, log_in, signed_in},
    app,
    browser::Browser,
    compat::{self, logged_in, run_jobs},
    oauth::{self, Authorization, VERIFIER, add_client, consented_code, exchange, tokens},
};
use axum::http::StatusCode;
use portcullis_model::{JobStatus, OAuthClient, User};
use serde_json::json;

/// The device of [`oauth::MATRIX_SCOPE`].
const OAUTH_DEVICE: &str = "ABCDEFGHIJ";

/// An OAuth 2.0 session of `user` with the client "Element X" on [`OAUTH_DEVICE`]; its access
/// token.
async fn oauth_session(app: &TestApp, user: &User) -> String {
    let client = OAuthClient {
        client_name: Some("Element X".to_owned()),
        ..add_client(
            app,
            "element",
            "none",
            &["authorization_code", "refresh_token"],
        )
        .await
    };
    let client = oauth::store_client(app, &client).await;
    let now = app.state.now();
    let mut repo = app.database.transaction().await.expect("tx");
    let browser_session = repo
        .browser_sessions()
        .add(user, Some("Firefox"), now)
        .await
        .expect("browser session");
    repo.commit().await.expect("commit");
    let signed_in = oauth::SignedIn {
        user: user.clone(),
        browser_session,
    };
    let code = consented_code(app, &client, &signed_in, &Authorization::default()).await;
    let body = tokens(exchange(app, "element", None, &code.code, Some(VERIFIER)).await).await;
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// The path of the "End this session" form of the first listed session that mentions
/// `marker`.
fn end_url_of(body: &str, marker: &str) -> String {
    body.split("<li class=\"session")
        .skip(1)
        .filter(|item| item.contains(marker))
        .find_map(|item| {
            let start = item.find("/account/sessions/")?;
            let end = start + item[start..].find('"')?;
            Some(item[start..end].to_owned())
        })
        .unwrap_or_else(|| panic!("no session with {marker} to end in {body}"))
}

/// The ids of every open session of `user`, of every kind.
async fn session_ids(app: &TestApp, user: &User) -> Vec<String> {
    let mut repo = app.database.transaction().await.expect("tx");
    let mut ids: Vec<String> = repo
        .browser_sessions()
        .list_active_for_user(user)
        .await
        .expect("browser sessions")
        .iter()
        .map(|session| session.id.to_string())
        .collect();
    ids.extend(
        repo.oauth_sessions()
            .list_active_for_user(user)
            .await
            .expect("oauth sessions")
            .iter()
            .map(|session| session.id.to_string()),
    );
    ids.extend(
        repo.compat_sessions()
            .list_active_for_user(user)
            .await
            .expect("compat sessions")
            .iter()
            .map(|session| session.id.to_string()),
    );
    repo.rollback().await.expect("rollback");
    ids
}

#[tokio::test]
async fn every_kind_of_session_is_listed_with_the_current_one_marked() {
    let app = app().await;
    let (mut browser, alice) = signed_in(&app, "alice").await;
    let mut other_browser = Browser::new(&app);
    log_in(&mut other_browser, "", "alice", PASSWORD).await;
    oauth_session(&app, &alice).await;
    logged_in(
        &app,
        "alice",
        &json!({"device_id": "COMPATDEV", "initial_device_display_name": "Old laptop"}),
    )
    .await;

    let page = browser.get("/account/sessions").await;

    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(body.contains("Element X"), "the client's name");
    assert!(body.contains(OAUTH_DEVICE), "the OAuth device");
    assert!(body.contains("Old laptop"), "the compat session's name");
    assert!(body.contains("COMPATDEV"));
    assert_eq!(
        body.matches("This browser").count(),
        1,
        "one current session"
    );
    assert_eq!(
        body.matches(r#"<h3 class="session-title">Web browser</h3>"#)
            .count(),
        3,
        "two signed-in browsers and the one the OAuth grant was made in"
    );
    assert!(
        body.contains(
            "<time datetime=\"2026-11-23T12:00:00Z\">November 23, 2026, 12:00 UTC</time>"
        )
    );
    assert!(body.contains("href=\"https://auth.example.com/account/devices/COMPATDEV\""));
}

#[tokio::test]
async fn ending_an_oauth_session_makes_its_token_inactive_and_deletes_its_device() {
    let app = app().await;
    let (mut browser, alice) = signed_in(&app, "alice").await;
    let token = oauth_session(&app, &alice).await;
    assert!(oauth::is_active(&app, &token).await);
    assert!(app.homeserver.devices("alice").contains(OAUTH_DEVICE));

    let page = browser
        .get(&format!("/account/devices/{OAUTH_DEVICE}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Element X"));
    let csrf = page.field("csrf").expect("csrf");
    let end = end_url_of(&page.body, "Element X");
    let done = browser.post(&end, &[("csrf", &csrf)]).await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/account/sessions?done=ended");
    assert!(!oauth::is_active(&app, &token).await);
    assert_eq!(run_jobs(&app).await, vec![JobStatus::Completed]);
    assert!(!app.homeserver.devices("alice").contains(OAUTH_DEVICE));
    let gone = browser
        .get(&format!("/account/devices/{OAUTH_DEVICE}"))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let list = browser.get("/account/sessions?done=ended").await;
    assert!(list.body.contains("The session has ended."));
    assert!(!list.body.contains("Element X"));
}

#[tokio::test]
async fn ending_a_compat_session_deletes_its_device_once_the_jobs_run() {
    let app = app().await;
    let (mut browser, alice) = signed_in(&app, "alice").await;
    let body = logged_in(&app, "alice", &json!({"device_id": "COMPATDEV"})).await;
    let token = body["access_token"].as_str().expect("a token").to_owned();

    let page = browser.get("/account/devices/COMPATDEV").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.field("csrf").expect("csrf");
    let end = end_url_of(&page.body, "COMPATDEV");
    let done = browser.post(&end, &[("csrf", &csrf)]).await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(!compat::is_active(&app, &token).await);
    assert!(compat::active_sessions(&app, &alice).await.is_empty());
    assert!(app.homeserver.devices("alice").contains("COMPATDEV"));
    assert_eq!(run_jobs(&app).await, vec![JobStatus::Completed]);
    assert!(app.homeserver.devices("alice").is_empty());
}

#[tokio::test]
async fn ending_another_browser_session_signs_that_browser_out_only() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let mut other_browser = Browser::new(&app);
    log_in(&mut other_browser, "", "alice", PASSWORD).await;
    assert_eq!(other_browser.get("/account/").await.status, StatusCode::OK);

    let page = browser.get("/account/sessions").await;
    let csrf = page.field("csrf").expect("csrf");
    // The current session has a sign-out button, not an end form.
    let end = end_url_of(&page.body, "Web browser");
    let done = browser.post(&end, &[("csrf", &csrf)]).await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/account/sessions?done=ended");
    assert_eq!(
        other_browser.get("/account/").await.status,
        StatusCode::SEE_OTHER,
        "the other browser is signed out"
    );
    assert_eq!(browser.get("/account/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn nobody_sees_or_ends_the_sessions_of_someone_else() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let (mut bob_browser, bob) = signed_in(&app, "bob").await;
    let bob_token = oauth_session(&app, &bob).await;
    logged_in(&app, "bob", &json!({"device_id": "BOBDEVICE"})).await;
    let csrf = csrf_of(&mut browser, "/account/sessions").await;

    for device in [OAUTH_DEVICE, "BOBDEVICE", "NOSUCHDEVICE"] {
        let page = browser.get(&format!("/account/devices/{device}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{device}");
    }
    let ids = session_ids(&app, &bob).await;
    assert_eq!(
        ids.len(),
        4,
        "two browsers, one OAuth and one compat session"
    );
    let bob_sessions = ids
        .iter()
        .map(|id| format!("/account/sessions/{id}/end"))
        .chain(["/account/sessions/01J00000000000000000000000/end".to_owned()])
        .chain(["/account/sessions/not-an-id/end".to_owned()]);
    for end in bob_sessions {
        let refused = browser.post(&end, &[("csrf", &csrf)]).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{end}");
    }

    assert!(oauth::is_active(&app, &bob_token).await);
    assert_eq!(compat::active_sessions(&app, &bob).await.len(), 1);
    assert_eq!(bob_browser.get("/account/").await.status, StatusCode::OK);
    assert!(run_jobs(&app).await.is_empty(), "no device deletion queued");
}

#[tokio::test]
async fn last_activity_is_written_in_batches_and_shown_with_its_address_and_client() {
    use std::{net::SocketAddr, sync::Arc};

    use axum::http::header;
    use chrono::TimeDelta;
    use portcullis_listener::{ConnectionInfo, LocalAddr};

    let app = app().await;
    let (mut browser, alice) = signed_in(&app, "alice").await;
    // A client logs in from 203.0.113.5...
    let mut request = compat::post_json(
        compat::LOGIN,
        &compat::password_body("alice", &json!({"device_id": "PIXELPHONE"})),
    );
    request.headers_mut().insert(
        header::USER_AGENT,
        "Element X/25.01.0 (Google Pixel 8; Android 14)"
            .parse()
            .expect("valid"),
    );
    request.extensions_mut().insert(ConnectionInfo {
        listener: Arc::from("web"),
        local: LocalAddr::Tcp(SocketAddr::from(([127, 0, 0, 1], 8080))),
        transport_peer: Some(SocketAddr::from(([203, 0, 113, 5], 40_000))),
        proxied: None,
        tls: None,
    });
    let response = app.send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = crate::common::body_json(response).await;
    let token = body["access_token"].as_str().expect("a token").to_owned();

    // ...and the homeserver introspects its token many times, five minutes later.
    app.clock.advance(TimeDelta::minutes(5));
    let used_at = app.state.now();
    for _ in 0..20 {
        let answer = compat::introspect(&app, &token, None, true).await;
        assert_eq!(answer["active"], true);
    }
    let stored = |app: &TestApp| {
        let database = app.database.clone();
        let alice = alice.clone();
        async move {
            let mut repo = database.transaction().await.expect("tx");
            let sessions = repo
                .compat_sessions()
                .list_active_for_user(&alice)
                .await
                .expect("sessions");
            repo.rollback().await.expect("rollback");
            sessions
                .into_iter()
                .find(|session| session.device_id == "PIXELPHONE")
                .expect("the session")
        }
    };
    let before = stored(&app).await;
    assert_eq!(
        before.last_active_at, None,
        "introspection writes nothing on the request path"
    );

    app.state
        .activity()
        .flush(&app.database)
        .await
        .expect("flushed");
    let after = stored(&app).await;
    // Storage keeps microseconds.
    assert_eq!(
        after.last_active_at.map(|at| at.timestamp_micros()),
        Some(used_at.timestamp_micros())
    );
    assert_eq!(
        after.last_active_ip,
        Some("203.0.113.5".parse().expect("valid")),
        "the homeserver's introspections keep the address the client logged in from"
    );

    let page = browser.get("/account/sessions").await;
    assert_eq!(page.status, StatusCode::OK);
    let item = page
        .body
        .split("<li class=\"session")
        .find(|item| item.contains("PIXELPHONE"))
        .expect("the session is listed");
    assert!(item.contains("203.0.113.5"), "{item}");
    assert!(item.contains(">Element X"), "a readable client: {item}");
    assert!(
        item.contains("title=\"Element X/25.01.0 (Google Pixel 8; Android 14)\""),
        "{item}"
    );
    assert!(item.contains("November 23, 2026, 12:05 UTC"), "{item}");
    assert!(!item.contains("Unknown"), "{item}");
}
