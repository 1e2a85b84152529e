//! The account pages that need the user to prove again who they are: the password change,
//! the approval of a cross-signing reset, and the deactivation.

use crate::common::{
    TestApp,
    account::{PASSWORD, csrf_of, log_in, signed_in},
    app, app_with,
    browser::Browser,
    compat::{logged_in, run_jobs},
    oauth::advance_minutes,
};
use axum::http::StatusCode;
use portcullis_model::{JobStatus, User};
use serde_json::json;

const NEW_PASSWORD: &str = "a much longer brand new passphrase";

fn cross_signing_allowed(app: &TestApp, localpart: &str) -> bool {
    app.homeserver
        .user(localpart)
        .expect("on the homeserver")
        .cross_signing_reset_allowed
}

async fn stored_user(app: &TestApp, user: &User) -> User {
    let mut repo = app.database.transaction().await.expect("tx");
    let found = repo
        .users()
        .find_by_id(user.id)
        .await
        .expect("read")
        .expect("exists");
    repo.rollback().await.expect("rollback");
    found
}

async fn change_password(
    browser: &mut Browser<'_>,
    current: &str,
    new: &str,
    confirm: &str,
) -> crate::common::browser::Page {
    let csrf = csrf_of(browser, "/account/password").await;
    browser
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", current),
                ("new_password", new),
                ("new_password_confirm", confirm),
            ],
        )
        .await
}

#[tokio::test]
async fn a_wrong_current_password_is_refused_and_the_right_one_changes_it() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;

    let refused =
        change_password(&mut browser, "not my password", NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body.contains("Wrong password."));
    assert!(
        refused.body.contains(r#"<label for="current-password">"#),
        "the error is shown on the form"
    );
    // Passwords are ordered by when they were set: the mock clock must move for the new one
    // to be the newest.
    advance_minutes(&app, 1);

    let done = change_password(&mut browser, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/account/password?done=changed");
    let page = browser.get("/account/password?done=changed").await;
    assert!(page.body.contains("Your password has been changed."));
    assert_eq!(
        browser.get("/account/").await.status,
        StatusCode::OK,
        "this browser stays signed in"
    );

    let mut old = Browser::new(&app);
    let refused = log_in(&mut old, "", "alice", PASSWORD).await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let mut new = Browser::new(&app);
    let signed_in = log_in(&mut new, "", "alice", NEW_PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_other_sessions_are_kept_when_the_password_changes() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let mut other = Browser::new(&app);
    log_in(&mut other, "", "alice", PASSWORD).await;
    let body = logged_in(&app, "alice", &json!({"device_id": "PHONE"})).await;
    let token = body["access_token"].as_str().expect("token").to_owned();

    let done = change_password(&mut browser, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;

    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(other.get("/account/").await.status, StatusCode::OK);
    assert!(crate::common::compat::is_active(&app, &token).await);
}

#[tokio::test]
async fn a_weak_or_mistyped_new_password_is_refused_on_the_form() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;

    let weak = change_password(&mut browser, PASSWORD, "alice", "alice").await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains(r#"id="new-password-error""#));

    let mistyped = change_password(&mut browser, PASSWORD, NEW_PASSWORD, "something else").await;
    assert_eq!(mistyped.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mistyped.body.contains("do not match"));

    let mut check = Browser::new(&app);
    assert_eq!(
        log_in(&mut check, "", "alice", PASSWORD).await.status,
        StatusCode::SEE_OTHER,
        "the password is unchanged"
    );
}

#[tokio::test]
async fn without_a_recent_sign_in_the_current_password_is_required() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;

    let page = browser.get("/account/password").await;
    assert!(page.body.contains("(optional: you signed in a moment ago)"));
    advance_minutes(&app, 10);
    let page = browser.get("/account/password").await;
    assert!(!page.body.contains("(optional"));

    let refused = change_password(&mut browser, "", NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body.contains("Enter your password"));
}

#[tokio::test]
async fn a_fresh_sign_in_allows_the_cross_signing_reset_without_the_password() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let page = browser.get("/account/cross-signing-reset").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("name=\"password\""),
        "no password asked"
    );
    let csrf = page.field("csrf").expect("csrf");

    let done = browser
        .post("/account/cross-signing-reset", &[("csrf", &csrf)])
        .await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(cross_signing_allowed(&app, "alice"));
    let page = browser.get(&done.location_path()).await;
    assert!(
        page.body
            .contains("For the next 10 minutes, you may reset your cross-signing keys")
    );
}

#[tokio::test]
async fn ten_minutes_after_the_sign_in_the_reset_needs_the_password() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    advance_minutes(&app, 10);

    let page = browser.get("/account/cross-signing-reset").await;
    assert!(page.body.contains(r#"<label for="password">"#));
    let csrf = page.field("csrf").expect("csrf");

    let refused = browser
        .post("/account/cross-signing-reset", &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body.contains("Enter your password"));
    assert!(
        !cross_signing_allowed(&app, "alice"),
        "a session alone is not enough"
    );

    let refused = browser
        .post(
            "/account/cross-signing-reset",
            &[("csrf", &csrf), ("password", "not my password")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body.contains("Wrong password."));
    assert!(!cross_signing_allowed(&app, "alice"));

    let done = browser
        .post(
            "/account/cross-signing-reset",
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(cross_signing_allowed(&app, "alice"));
}

#[tokio::test]
async fn the_password_counts_as_a_new_authentication() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    advance_minutes(&app, 10);
    let csrf = csrf_of(&mut browser, "/account/cross-signing-reset").await;
    let done = browser
        .post(
            "/account/cross-signing-reset",
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);

    advance_minutes(&app, 2);
    let page = browser.get("/account/cross-signing-reset").await;
    assert!(!page.body.contains("name=\"password\""), "recent again");
}

#[tokio::test]
async fn deactivation_asks_for_the_password_even_right_after_signing_in() {
    let app = app().await;
    let (mut browser, alice) = signed_in(&app, "alice").await;

    let page = browser.get("/account/deactivate").await;
    assert!(
        page.body.contains("name=\"password\""),
        "the form asks for the password at once"
    );
    let csrf = page.field("csrf").expect("csrf");
    let missing = browser
        .post("/account/deactivate", &[("csrf", &csrf)])
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert!(
        missing
            .body
            .contains("deactivating an account always asks for it")
    );
    let blank = browser
        .post("/account/deactivate", &[("csrf", &csrf), ("password", "")])
        .await;
    assert_eq!(blank.status, StatusCode::UNAUTHORIZED);
    let wrong = browser
        .post(
            "/account/deactivate",
            &[("csrf", &csrf), ("password", "not my password")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    assert!(stored_user(&app, &alice).await.deactivated_at.is_none());
    run_jobs(&app).await;
    assert!(
        !app.homeserver
            .user("alice")
            .is_some_and(|user| user.deactivated),
        "nothing reached the homeserver"
    );
    assert!(
        browser.get("/account/").await.status.is_success(),
        "still signed in"
    );
}

#[tokio::test]
async fn an_unreachable_homeserver_fails_the_reset_with_a_page() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let csrf = csrf_of(&mut browser, "/account/cross-signing-reset").await;
    app.homeserver.set_down(true);

    let failed = browser
        .post("/account/cross-signing-reset", &[("csrf", &csrf)])
        .await;

    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(failed.body.contains("could not be reached"));
    app.homeserver.set_down(false);
    assert!(!cross_signing_allowed(&app, "alice"));
}

#[tokio::test]
async fn password_attempts_on_the_account_pages_are_rate_limited_per_account() {
    let app = app_with(|config| {
        config.rate_limiting.login.per_account =
            portcullis_config::sections::rate_limiting::RateLimiterConfig {
                burst: std::num::NonZeroU32::new(2).expect("not zero"),
                per_second: 1.0 / 3600.0,
            };
    })
    .await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let csrf = csrf_of(&mut browser, "/account/cross-signing-reset").await;

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let page = browser
            .post(
                "/account/cross-signing-reset",
                &[("csrf", &csrf), ("password", "not my password")],
            )
            .await;
        statuses.push(page.status);
    }

    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let page = browser
        .post(
            "/account/cross-signing-reset",
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right one waits"
    );
    assert!(page.headers.contains_key("retry-after"));
    assert!(!cross_signing_allowed(&app, "alice"));
}

#[tokio::test]
async fn deactivating_the_account_signs_out_and_queues_the_deactivation() {
    let app = app().await;
    let (mut browser, alice) = signed_in(&app, "alice").await;
    let body = logged_in(&app, "alice", &json!({"device_id": "PHONE"})).await;
    let token = body["access_token"].as_str().expect("token").to_owned();
    advance_minutes(&app, 10);

    let page = browser.get("/account/deactivate").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("@alice:example.com"));
    let csrf = page.field("csrf").expect("csrf");
    let refused = browser
        .post("/account/deactivate", &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let refused = browser
        .post(
            "/account/deactivate",
            &[("csrf", &csrf), ("password", "not my password")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(stored_user(&app, &alice).await.deactivated_at.is_none());

    let done = browser
        .post(
            "/account/deactivate",
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/account/deactivated");
    let page = browser.get("/account/deactivated").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Your account is deactivated"));
    assert!(stored_user(&app, &alice).await.deactivated_at.is_some());
    let to_login = browser.get("/account/").await;
    assert_eq!(to_login.status, StatusCode::SEE_OTHER, "signed out");
    assert!(!crate::common::compat::is_active(&app, &token).await);

    assert_eq!(run_jobs(&app).await, vec![JobStatus::Completed]);
    assert!(app.homeserver.user("alice").expect("known").deactivated);
    let mut again = Browser::new(&app);
    let refused = log_in(&mut again, "", "alice", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
