//! The account pages under `/account/`: sign-in and MSC4191 deep links, the profile and the
//! display name, switches that turn features off, CSRF, and locked or deactivated users.

use crate::common::{
    account::{PASSWORD, csrf_of, is_protected, log_in, signed_in},
    app, app_with,
    browser::Browser,
    compat::{logged_in, run_jobs},
    oauth::{add_email, deactivate, lock},
};
use axum::http::StatusCode;
use portcullis_model::JobStatus;
use serde_json::json;

#[tokio::test]
async fn without_a_session_the_account_page_sends_to_the_login_page() {
    let app = app().await;
    let mut browser = Browser::new(&app);

    let page = browser.get("/account/").await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location_path(), "/login?kind=manage_account");
}

#[tokio::test]
async fn every_deep_link_survives_the_sign_in() {
    let app = app().await;
    crate::common::account::signed_in(&app, "alice").await;
    // A device for the device links to show.
    logged_in(&app, "alice", &json!({"device_id": "PHONE"})).await;

    let cases = [
        ("org.matrix.profile", None, "/account/"),
        ("org.matrix.devices_list", None, "/account/sessions"),
        ("org.matrix.sessions_list", None, "/account/sessions"),
        (
            "org.matrix.device_view",
            Some("PHONE"),
            "/account/devices/PHONE",
        ),
        (
            "org.matrix.session_view",
            Some("PHONE"),
            "/account/devices/PHONE",
        ),
        (
            "org.matrix.device_delete",
            Some("PHONE"),
            "/account/devices/PHONE?action=end",
        ),
        (
            "org.matrix.session_end",
            Some("PHONE"),
            "/account/devices/PHONE?action=end",
        ),
        (
            "org.matrix.cross_signing_reset",
            None,
            "/account/cross-signing-reset",
        ),
        ("org.example.unknown", None, "/account/"),
    ];
    for (action, device_id, expected) in cases {
        let mut link = format!("/account/?action={action}");
        if let Some(device_id) = device_id {
            link.push_str(&format!("&device_id={device_id}"));
        }
        let mut browser = Browser::new(&app);

        let to_login = browser.get(&link).await;
        assert_eq!(to_login.status, StatusCode::SEE_OTHER, "{action}");
        let login_path = to_login.location_path();
        assert!(
            login_path.starts_with("/login?kind=manage_account&action="),
            "{action}: {login_path}"
        );
        let query = login_path.trim_start_matches("/login");
        let signed_in = log_in(&mut browser, query, "alice", PASSWORD).await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{action}");
        assert_eq!(
            signed_in.location_path(),
            link,
            "{action}: back to the link"
        );

        let mut page = browser.get(&link).await;
        if page.status == StatusCode::SEE_OTHER {
            assert_eq!(page.location_path(), expected, "{action}");
            page = browser.get(expected).await;
        } else {
            assert_eq!(expected, "/account/", "{action}: shown in place");
        }
        assert_eq!(page.status, StatusCode::OK, "{action}: {}", page.body);
        assert!(is_protected(&page), "{action}");
        if action.ends_with("_delete") || action.ends_with("_end") {
            assert!(page.body.contains("End this session"), "{action}");
            assert!(
                page.body.contains("asked to sign this device out"),
                "{action}"
            );
        }
    }
}

#[tokio::test]
async fn account_without_a_slash_and_the_well_known_url_redirect() {
    let app = app().await;
    let mut browser = Browser::new(&app);

    let page = browser.get("/account?action=org.matrix.profile").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location_path(), "/account/?action=org.matrix.profile");

    let page = browser.get("/.well-known/change-password").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location_path(), "/account/password");
}

#[tokio::test]
async fn the_profile_shows_who_the_user_is_and_links_the_other_pages() {
    let app = app().await;
    let (mut browser, alice) = signed_in(&app, "alice").await;
    add_email(&app, &alice, "alice@example.com").await;

    let page = browser.get("/account/").await;

    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(is_protected(&page));
    assert!(page.body.contains("@alice:example.com"));
    assert!(page.body.contains("alice@example.com"));
    for link in [
        "/account/sessions",
        "/account/password",
        "/account/cross-signing-reset",
        "/account/deactivate",
    ] {
        assert!(page.body.contains(&format!("href=\"{link}\"")), "{link}");
    }
    assert!(page.body.contains(r#"<label for="display-name">"#));

    let home = browser.get("/").await;
    assert!(
        home.body.contains("href=\"/account/\""),
        "the home page links it"
    );
}

#[tokio::test]
async fn a_new_display_name_reaches_the_homeserver_and_an_empty_one_removes_it() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let csrf = csrf_of(&mut browser, "/account/").await;

    let done = browser
        .post(
            "/account/profile",
            &[("csrf", &csrf), ("display_name", "  Alice Liddell ")],
        )
        .await;

    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location_path(), "/account/?done=display_name");
    assert_eq!(
        app.homeserver
            .user("alice")
            .and_then(|user| user.display_name),
        None,
        "queued, not sent on the request's path"
    );
    assert_eq!(run_jobs(&app).await, vec![JobStatus::Completed]);
    assert_eq!(
        app.homeserver
            .user("alice")
            .and_then(|user| user.display_name),
        Some("Alice Liddell".to_owned())
    );
    let page = browser.get("/account/").await;
    assert!(
        page.body.contains("Alice Liddell"),
        "read back from the homeserver"
    );

    let removed = browser
        .post("/account/profile", &[("csrf", &csrf), ("display_name", "")])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.homeserver
            .user("alice")
            .and_then(|user| user.display_name),
        None
    );
}

#[tokio::test]
async fn a_display_name_with_a_line_break_is_refused_on_the_form() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let csrf = csrf_of(&mut browser, "/account/").await;

    let refused = browser
        .post(
            "/account/profile",
            &[("csrf", &csrf), ("display_name", "Alice\nAdmin")],
        )
        .await;

    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("control characters"));
    assert!(run_jobs(&app).await.is_empty(), "nothing queued");
}

#[tokio::test]
async fn removing_the_display_name_while_the_homeserver_is_down_shows_an_error() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let csrf = csrf_of(&mut browser, "/account/").await;
    app.homeserver.set_down(true);

    let page = browser.get("/account/").await;
    assert_eq!(page.status, StatusCode::OK, "the profile still shows");
    assert!(page.body.contains("could not be reached"));

    let refused = browser
        .post("/account/profile", &[("csrf", &csrf), ("display_name", "")])
        .await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn switched_off_features_are_hidden_and_refused() {
    let app = app_with(|config| {
        config.account.displayname_change_allowed = false;
        config.account.password_change_allowed = false;
        config.account.account_deactivation_allowed = false;
    })
    .await;
    let (mut browser, _) = signed_in(&app, "alice").await;

    let page = browser.get("/account/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("name=\"display_name\""));
    assert!(!page.body.contains("href=\"/account/password\""));
    assert!(!page.body.contains("href=\"/account/deactivate\""));
    let csrf = page.field("csrf").expect("the sign-out form's csrf");

    let refused = browser
        .post(
            "/account/profile",
            &[("csrf", &csrf), ("display_name", "Alice")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(run_jobs(&app).await.is_empty());

    for uri in ["/account/password", "/account/deactivate"] {
        assert_eq!(
            browser.get(uri).await.status,
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }
    let refused = browser
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", PASSWORD),
                ("new_password", "a much longer brand new passphrase"),
                ("new_password_confirm", "a much longer brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = browser
        .post(
            "/account/deactivate",
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/account/").await.status,
        StatusCode::OK,
        "still signed in and active"
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    logged_in(&app, "alice", &json!({"device_id": "PHONE"})).await;

    for (uri, pairs) in [
        ("/account/profile", vec![("display_name", "Mallory")]),
        ("/account/cross-signing-reset", vec![("password", PASSWORD)]),
        ("/account/deactivate", vec![("password", PASSWORD)]),
        (
            "/account/password",
            vec![
                ("current_password", PASSWORD),
                ("new_password", "a much longer brand new passphrase"),
                ("new_password_confirm", "a much longer brand new passphrase"),
            ],
        ),
    ] {
        let refused = browser.post(uri, &pairs).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{uri}");
        let mut forged = pairs.clone();
        forged.push(("csrf", "forged"));
        let refused = browser.post(uri, &forged).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{uri}");
    }
    assert!(run_jobs(&app).await.is_empty(), "nothing was queued");
    assert!(
        !app.homeserver
            .user("alice")
            .expect("provisioned")
            .cross_signing_reset_allowed
    );
    assert_eq!(browser.get("/account/").await.status, StatusCode::OK);
    assert!(app.homeserver.devices("alice").contains("PHONE"));
}

#[tokio::test]
async fn a_locked_user_is_signed_out_and_told_why() {
    let app = app().await;
    let (mut browser, alice) = signed_in(&app, "alice").await;
    let csrf = csrf_of(&mut browser, "/account/").await;
    lock(&app, &alice).await;

    let page = browser.get("/account/sessions").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("Your account is locked"),
        "{}",
        page.body
    );
    assert!(is_protected(&page));

    let refused = browser
        .post(
            "/account/profile",
            &[("csrf", &csrf), ("display_name", "Alice")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::SEE_OTHER,
        "the cookie is gone: to the login page"
    );
    assert!(refused.location_path().starts_with("/login"));

    // Unlocked, the browser is still signed out: the cookie was dropped.
    let mut repo = app.database.transaction().await.expect("tx");
    let locked = repo
        .users()
        .find_by_id(alice.id)
        .await
        .expect("read")
        .expect("exists");
    repo.users().unlock(locked).await.expect("unlocked");
    repo.commit().await.expect("commit");
    let page = browser.get("/account/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location_path().starts_with("/login"));
}

#[tokio::test]
async fn a_deactivated_user_with_an_open_session_is_signed_out_and_told_why() {
    let app = app().await;
    let (mut browser, alice) = signed_in(&app, "alice").await;
    deactivate(&app, &alice).await;

    let page = browser.get("/account/").await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Your account is deactivated"));
    assert_eq!(browser.get("/account/").await.status, StatusCode::SEE_OTHER);
}

/// The site header of a page: where every account page names its account.
fn site_header(body: &str) -> &str {
    let start = body
        .find("<header class=\"site-header\">")
        .expect("a site header");
    let end = body[start..].find("</header>").expect("closed") + start;
    &body[start..end]
}

#[tokio::test]
async fn every_account_page_names_the_account_in_its_header() {
    use portcullis_homeserver::HomeserverConnection as _;
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    logged_in(&app, "alice", &json!({"device_id": "PHONE"})).await;
    run_jobs(&app).await;
    app.homeserver
        .set_displayname("alice", "Alice Liddell")
        .await
        .expect("alice is on the homeserver");

    for uri in [
        "/account/",
        "/account/sessions",
        "/account/devices/PHONE",
        "/account/password",
        "/account/cross-signing-reset",
        "/account/deactivate",
    ] {
        let page = browser.get(uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        let header = site_header(&page.body);
        assert!(header.contains("@alice:example.com"), "{uri}: {header}");
        assert!(header.contains("Alice Liddell"), "{uri}: {header}");
    }

    let login = Browser::new(&app).get("/login").await;
    assert!(
        !site_header(&login.body).contains("@alice:example.com"),
        "pages without an account name none"
    );
}

#[tokio::test]
async fn an_account_page_still_names_the_account_when_the_homeserver_is_down() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    app.homeserver.set_down(true);

    let page = browser.get("/account/password").await;

    assert_eq!(page.status, StatusCode::OK);
    assert!(site_header(&page.body).contains("@alice:example.com"));
}
