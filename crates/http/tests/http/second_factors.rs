//! Second factors: an authenticator app added from the account page, asked for after the
//! password, its codes used once and rate-limited, recovery codes, removal, the Matrix login
//! API's refusal, and the operator's settings.

use axum::http::StatusCode;
use chrono::TimeDelta;
use portcullis_config::SecondFactorRequirement;
use portcullis_model::Clock as _;
use portcullis_services::second_factor::{code_at, step_at};

use crate::common::{
    TestApp,
    account::{PASSWORD, csrf_of, log_in, signed_in},
    app, app_with, body_json,
    browser::{Browser, Page},
    compat::{login, password_body},
};

const PAGE: &str = "/account/second-factors";

/// The key an enrolment page shows, decoded.
pub(crate) fn shown_secret(page: &Page) -> Vec<u8> {
    let marker = "id=\"totp-secret\">";
    let at = page.body.find(marker).expect("the key on the page") + marker.len();
    let end = at + page.body[at..].find('<').expect("the end of the key");
    let letters: String = page.body[at..end].split_whitespace().collect();
    data_encoding::BASE32_NOPAD
        .decode(letters.as_bytes())
        .expect("a base32 key")
}

/// The recovery codes a page shows.
fn shown_codes(page: &Page) -> Vec<String> {
    page.body
        .split("<li><code>")
        .skip(1)
        .map(|rest| rest[..rest.find('<').expect("end of a code")].to_owned())
        .collect()
}

/// The code of `secret` now, `steps` time steps away.
pub(crate) fn code(app: &TestApp, secret: &[u8], steps: i64) -> String {
    let step = step_at(app.clock.now())
        .checked_add_signed(steps)
        .expect("a step");
    code_at(secret, step)
}

/// Six digits that are none of the codes of `secret` around now.
fn wrong_code(app: &TestApp, secret: &[u8]) -> String {
    let right: Vec<String> = (-1..=1).map(|steps| code(app, secret, steps)).collect();
    (0..4)
        .map(|n| format!("{n:06}"))
        .find(|candidate| !right.contains(candidate))
        .expect("one of four is wrong")
}

/// Adds an authenticator app from the account page of a signed-in `browser`; its secret and
/// the recovery codes shown.
async fn enrol(app: &TestApp, browser: &mut Browser<'_>) -> (Vec<u8>, Vec<String>) {
    let csrf = csrf_of(browser, PAGE).await;
    let started = browser
        .post(&format!("{PAGE}/totp"), &[("csrf", &csrf)])
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let page = browser.get(PAGE).await;
    assert!(
        page.body.contains("src=\"data:image/svg+xml;base64,"),
        "a QR code: {}",
        page.body
    );
    let secret = shown_secret(&page);
    let csrf = page.field("csrf").expect("csrf");
    let confirmed = browser
        .post(
            &format!("{PAGE}/totp/confirm"),
            &[("csrf", &csrf), ("code", &code(app, &secret, 0))],
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert!(confirmed.body.contains("Two-step verification is on."));
    let codes = shown_codes(&confirmed);
    assert_eq!(codes.len(), 10, "{}", confirmed.body);
    // The clock moves on, so that the confirmation's code is not the one signed in with next.
    app.clock.advance(TimeDelta::seconds(30));
    (secret, codes)
}

/// Signs `username` in with the password in a new browser: the second step's page.
pub(crate) async fn first_factor<'a>(app: &'a TestApp, username: &str) -> (Browser<'a>, Page) {
    let mut browser = Browser::new(app);
    let done = log_in(&mut browser, "", username, PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/login/second-factor");
    let page = browser.get("/login/second-factor").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    (browser, page)
}

/// Types `code` at the second step.
async fn second_factor(browser: &mut Browser<'_>, page: &Page, code: &str) -> Page {
    let csrf = page.field("csrf").expect("csrf");
    browser
        .post("/login/second-factor", &[("csrf", &csrf), ("code", code)])
        .await
}

pub(crate) async fn is_signed_in(browser: &mut Browser<'_>) -> bool {
    browser.get("/account/").await.status == StatusCode::OK
}

#[tokio::test]
async fn an_authenticator_app_added_on_the_account_page_is_asked_for_after_the_password() {
    // More codes than the default limit lets through in a minute are typed here.
    let app = app_with(|config| {
        config.rate_limiting.second_factor.burst = std::num::NonZeroU32::new(20).expect("20");
    })
    .await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let page = browser.get(PAGE).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("No authenticator app is set up."),
        "{}",
        page.body
    );

    // A wrong first code does not confirm it.
    let csrf = csrf_of(&mut browser, PAGE).await;
    browser
        .post(&format!("{PAGE}/totp"), &[("csrf", &csrf)])
        .await;
    let page = browser.get(PAGE).await;
    let secret = shown_secret(&page);
    assert_eq!(secret.len(), 20, "160 bits");
    let refused = browser
        .post(
            &format!("{PAGE}/totp/confirm"),
            &[("csrf", &csrf), ("code", &wrong_code(&app, &secret))],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body.contains("That code is not right"));
    // Reloading shows the same key: it may be scanned already.
    assert_eq!(shown_secret(&browser.get(PAGE).await), secret);
    let confirmed = browser
        .post(
            &format!("{PAGE}/totp/confirm"),
            &[("csrf", &csrf), ("code", &code(&app, &secret, 0))],
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert_eq!(shown_codes(&confirmed).len(), 10);
    let code_of_confirmation = code(&app, &secret, 0);

    // The password alone no longer signs in: no session until the second step.
    let (mut other, step) = first_factor(&app, "alice").await;
    assert!(!is_signed_in(&mut other).await);
    assert!(step.body.contains("Two-step verification"), "{}", step.body);
    // The code used to confirm the app is not accepted again.
    let replayed = second_factor(&mut other, &step, &code_of_confirmation).await;
    assert_eq!(
        replayed.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        replayed.body
    );
    assert!(!is_signed_in(&mut other).await);
    // The next code is, once.
    app.clock.advance(TimeDelta::seconds(30));
    let fresh = code(&app, &secret, 0);
    let done = second_factor(&mut other, &step, &fresh).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/");
    assert!(is_signed_in(&mut other).await);
    let (mut third, step) = first_factor(&app, "alice").await;
    let again = second_factor(&mut third, &step, &fresh).await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "a code is good once"
    );
    // A code of the step before is still good (a clock a little behind, a slow typist).
    app.clock.advance(TimeDelta::seconds(30));
    let late = second_factor(&mut third, &step, &code(&app, &secret, -1)).await;
    assert_eq!(
        late.status,
        StatusCode::UNAUTHORIZED,
        "that step's code was just used"
    );
    let next = second_factor(&mut third, &step, &code(&app, &secret, 1)).await;
    assert_eq!(next.status, StatusCode::SEE_OTHER, "{}", next.body);

    app.finish().await;
}

#[tokio::test]
async fn the_second_step_keeps_where_the_user_was_going_and_expires() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let (secret, _) = enrol(&app, &mut browser).await;

    let query = "?kind=manage_account&action=org.matrix.devices_list";
    let mut other = Browser::new(&app);
    let done = log_in(&mut other, query, "alice", PASSWORD).await;
    assert_eq!(done.location_path(), format!("/login/second-factor{query}"));
    let step = other.get(&done.location_path()).await;
    let csrf = step.field("csrf").expect("csrf");
    let signed = other
        .post(
            &done.location_path(),
            &[("csrf", &csrf), ("code", &code(&app, &secret, 0))],
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert_eq!(
        signed.location_path(),
        "/account/?action=org.matrix.devices_list"
    );

    // Ten minutes to give the code, then the sign-in starts over.
    let (mut late, step) = first_factor(&app, "alice").await;
    app.clock.advance(TimeDelta::minutes(11));
    let expired = second_factor(&mut late, &step, &code(&app, &secret, 0)).await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);
    assert_eq!(expired.location_path(), "/login");
    assert!(!is_signed_in(&mut late).await);
    // Nor does a browser that never gave the password get the page.
    let stranger = Browser::new(&app).get("/login/second-factor").await;
    assert_eq!(stranger.status, StatusCode::SEE_OTHER);
    assert_eq!(stranger.location_path(), "/login");

    app.finish().await;
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_new_codes_void_the_old() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let (_, codes) = enrol(&app, &mut browser).await;

    let (mut other, step) = first_factor(&app, "alice").await;
    // Typed as people type it: upper case, spaces for hyphens.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let done = second_factor(&mut other, &step, &typed).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let (mut third, step) = first_factor(&app, "alice").await;
    let again = second_factor(&mut third, &step, &codes[0]).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "used up");
    let page = browser.get(PAGE).await;
    assert!(
        page.body.contains("You have 9 unused recovery codes."),
        "{}",
        page.body
    );

    // New codes need the password once the sign-in is not recent.
    app.clock.advance(TimeDelta::minutes(10));
    let csrf = csrf_of(&mut browser, PAGE).await;
    let uri = format!("{PAGE}/recovery-codes");
    let refused = browser.post(&uri, &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(shown_codes(&refused).is_empty());
    let made = browser
        .post(&uri, &[("csrf", &csrf), ("password", PASSWORD)])
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let new_codes = shown_codes(&made);
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|code| !codes.contains(code)));
    let (mut fourth, step) = first_factor(&app, "alice").await;
    let old = second_factor(&mut fourth, &step, &codes[1]).await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "the old codes are void"
    );
    let new = second_factor(&mut fourth, &step, &new_codes[1]).await;
    assert_eq!(new.status, StatusCode::SEE_OTHER, "{}", new.body);

    app.finish().await;
}

#[tokio::test]
async fn wrong_codes_are_limited_per_account_after_five() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let (secret, _) = enrol(&app, &mut browser).await;
    // The code that confirmed the app counted: four more are let through.
    let (mut other, step) = first_factor(&app, "alice").await;
    for attempt in 0..4 {
        let wrong = second_factor(&mut other, &step, &wrong_code(&app, &secret)).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    // Even the right code waits now, from any browser.
    let (mut third, step) = first_factor(&app, "alice").await;
    let limited = second_factor(&mut third, &step, &code(&app, &secret, 0)).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    assert!(limited.headers.contains_key("retry-after"));
    assert!(
        limited.body.contains("Too many codes were tried"),
        "{}",
        limited.body
    );
    assert!(!is_signed_in(&mut third).await);

    app.finish().await;
}

#[tokio::test]
async fn the_matrix_login_api_refuses_the_password_of_an_account_with_a_second_factor() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    enrol(&app, &mut browser).await;

    let response = login(&app, &password_body("alice", &serde_json::json!({}))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body = body_json(response).await;
    assert_eq!(body["errcode"], "M_FORBIDDEN");
    let error = body["error"].as_str().expect("a message");
    assert!(
        error.contains("two-step verification") && error.contains("personal access token"),
        "{error}"
    );
    // A wrong password learns nothing of it.
    let mut wrong = password_body("alice", &serde_json::json!({}));
    wrong["password"] = "not the password".into();
    let response = login(&app, &wrong).await;
    let body = body_json(response).await;
    assert_eq!(body["error"], "Invalid username or password");

    app.finish().await;
}

#[tokio::test]
async fn the_user_turns_it_off_with_their_password_and_signs_in_with_it_alone() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    enrol(&app, &mut browser).await;
    app.clock.advance(TimeDelta::minutes(10));
    let csrf = csrf_of(&mut browser, PAGE).await;
    let uri = format!("{PAGE}/remove");
    let refused = browser
        .post(&uri, &[("csrf", &csrf), ("password", "not it")])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    let removed = browser
        .post(&uri, &[("csrf", &csrf), ("password", PASSWORD)])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    let page = browser.get(&removed.location_path()).await;
    assert!(
        page.body.contains("Two-step verification is off."),
        "{}",
        page.body
    );

    let mut other = Browser::new(&app);
    let done = log_in(&mut other, "", "alice", PASSWORD).await;
    assert_eq!(done.location_path(), "/");
    assert!(is_signed_in(&mut other).await);
    let response = login(&app, &password_body("alice", &serde_json::json!({}))).await;
    assert_eq!(response.status(), StatusCode::OK);

    app.finish().await;
}

#[tokio::test]
async fn a_required_second_factor_is_added_at_sign_in_and_cannot_be_removed() {
    let app = app_with(|config| {
        config.account.second_factors.required = SecondFactorRequirement::Everyone;
    })
    .await;
    crate::common::add_user_with_password(&app, "alice", PASSWORD, false).await;

    let mut browser = Browser::new(&app);
    let done = log_in(&mut browser, "", "alice", PASSWORD).await;
    assert_eq!(done.location_path(), "/login/second-factor");
    let page = browser.get("/login/second-factor").await;
    assert!(
        page.body.contains("Add an authenticator app"),
        "{}",
        page.body
    );
    let secret = shown_secret(&page);
    let signed = second_factor(&mut browser, &page, &code(&app, &secret, 0)).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert_eq!(shown_codes(&signed).len(), 10);
    assert!(
        signed.body.contains("href=\"https://auth.example.com/\""),
        "{}",
        signed.body
    );
    assert!(is_signed_in(&mut browser).await);

    let page = browser.get(PAGE).await;
    assert!(
        page.body.contains("requires two-step verification"),
        "{}",
        page.body
    );
    let csrf = page.field("csrf").expect("csrf");
    let refused = browser
        .post(
            &format!("{PAGE}/remove"),
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    // Without an authenticator app yet, the Matrix login API cannot help either.
    crate::common::add_user_with_password(&app, "bob", PASSWORD, false).await;
    let response = login(&app, &password_body("bob", &serde_json::json!({}))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    app.finish().await;
}

#[tokio::test]
async fn a_requirement_for_admins_leaves_other_users_alone() {
    let app = app_with(|config| {
        config.account.second_factors.required = SecondFactorRequirement::Admins;
    })
    .await;
    crate::common::add_user_with_password(&app, "alice", PASSWORD, false).await;
    crate::common::add_user_with_password(&app, "root", PASSWORD, true).await;
    let mut user = Browser::new(&app);
    assert_eq!(
        log_in(&mut user, "", "alice", PASSWORD)
            .await
            .location_path(),
        "/"
    );
    let mut admin = Browser::new(&app);
    assert_eq!(
        log_in(&mut admin, "", "root", PASSWORD)
            .await
            .location_path(),
        "/login/second-factor"
    );

    app.finish().await;
}

#[tokio::test]
async fn authenticator_apps_can_be_switched_off() {
    let app = app_with(|config| config.account.second_factors.totp_allowed = false).await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let page = browser.get(PAGE).await;
    assert!(
        page.body.contains("does not offer authenticator apps"),
        "{}",
        page.body
    );
    let csrf = csrf_of(&mut browser, "/account/tokens").await;
    let refused = browser
        .post(&format!("{PAGE}/totp"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    app.finish().await;
}
