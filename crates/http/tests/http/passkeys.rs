//! Passkeys: added from the account page (after a re-authentication), listed and removed;
//! signing in with one alone, or as the second step after the password; answers used once;
//! the operator's settings. A software authenticator (`common::authenticator`) plays the
//! browser's part, signing with a real P-256 key.

use axum::http::StatusCode;
use portcullis_config::SecondFactorRequirement;
use serde_json::Value;

use crate::common::{
    account::{PASSWORD, csrf_of, log_in, signed_in},
    app, app_with,
    authenticator::Authenticator,
    body_json,
    browser::{Browser, Page},
    compat::{login, password_body},
};
use crate::second_factors::{first_factor, is_signed_in};

const PAGE: &str = "/account/second-factors";

/// The origin of the test server's pages (`http.public_base`).
pub(crate) const ORIGIN: &str = "https://auth.example.com";

pub(crate) fn json(page: &Page) -> Value {
    serde_json::from_str(&page.body).unwrap_or_else(|error| panic!("{error}: {}", page.body))
}

/// Adds a passkey named `name` from the account page of a signed-in `browser` (the sign-in is
/// recent: no password asked); the page shown after.
pub(crate) async fn add(
    browser: &mut Browser<'_>,
    authenticator: &mut Authenticator,
    name: &str,
) -> Page {
    let csrf = csrf_of(browser, PAGE).await;
    let options = browser
        .post(&format!("{PAGE}/passkeys/options"), &[("csrf", &csrf)])
        .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let options = json(&options);
    let answer = authenticator.register(&options, ORIGIN).to_string();
    browser
        .post(
            &format!("{PAGE}/passkeys"),
            &[("csrf", &csrf), ("name", name), ("answer", &answer)],
        )
        .await
}

/// Signs in with `authenticator` from the sign-in page of `browser`: the answer posted, and
/// the response.
pub(crate) async fn sign_in_with(
    browser: &mut Browser<'_>,
    authenticator: &mut Authenticator,
) -> (String, Page) {
    let login = browser.get("/login").await;
    assert!(
        login.body.contains("data-passkey=\"get\""),
        "a passkey form on the sign-in page: {}",
        login.body
    );
    let csrf = login.field("csrf").expect("csrf");
    let options = browser.post("/login/passkey/options", &[]).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let answer = authenticator.sign_in(&json(&options), ORIGIN).to_string();
    let done = browser
        .post("/login/passkey", &[("csrf", &csrf), ("answer", &answer)])
        .await;
    (answer, done)
}

#[tokio::test]
async fn a_passkey_added_on_the_account_page_signs_in_alone_once_per_answer() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    let mut laptop = Authenticator::new();

    let csrf = csrf_of(&mut browser, PAGE).await;
    let options = browser
        .post(&format!("{PAGE}/passkeys/options"), &[("csrf", &csrf)])
        .await;
    let options = json(&options);
    assert_eq!(options["rp"]["id"], "auth.example.com", "{options}");
    assert_eq!(options["user"]["name"], "@alice:example.com", "{options}");
    assert_eq!(
        options["authenticatorSelection"]["residentKey"], "required",
        "discoverable: it signs in without a username"
    );

    let added = add(&mut browser, &mut laptop, "Laptop").await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(
        added.body.contains("Passkey Laptop added."),
        "{}",
        added.body
    );
    assert_eq!(
        added.body.matches("<li><code>").count(),
        10,
        "the first second factor comes with recovery codes: {}",
        added.body
    );
    let page = browser.get(PAGE).await;
    assert!(page.body.contains("Laptop"), "{}", page.body);
    assert!(page.body.contains("Remove Laptop"), "{}", page.body);

    // A fresh browser signs in with the passkey alone.
    let mut other = Browser::new(&app);
    let (answer, done) = sign_in_with(&mut other, &mut laptop).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(is_signed_in(&mut other).await);
    let listed = other.get(PAGE).await;
    assert!(
        !listed.body.contains("passkeys.never") && listed.body.matches("<time").count() >= 2,
        "the last use is shown: {}",
        listed.body
    );

    // The same answer again is refused: its ceremony was used.
    let mut replayer = Browser::new(&app);
    let csrf = csrf_of(&mut replayer, "/login").await;
    let replayed = replayer
        .post("/login/passkey", &[("csrf", &csrf), ("answer", &answer)])
        .await;
    assert_eq!(
        replayed.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        replayed.body
    );
    assert!(replayed.body.contains("Try again"), "{}", replayed.body);
    assert!(!is_signed_in(&mut replayer).await);
}

#[tokio::test]
async fn a_forged_or_unknown_answer_signs_nobody_in() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "bruno").await;
    let mut registered = Authenticator::new();
    let added = add(&mut browser, &mut registered, "Key").await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);

    let mut stranger = Browser::new(&app);
    let csrf = csrf_of(&mut stranger, "/login").await;
    for garbage in ["", "{}", "not json", "{\"id\":\"x\",\"response\":{}}"] {
        let refused = stranger
            .post("/login/passkey", &[("csrf", &csrf), ("answer", garbage)])
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNAUTHORIZED,
            "{garbage}: {}",
            refused.body
        );
        assert!(
            refused.body.contains("This passkey was not accepted."),
            "{}",
            refused.body
        );
    }

    // An authenticator this server never saw.
    let mut unknown = Authenticator::new();
    let options = json(&stranger.post("/login/passkey/options", &[]).await);
    // It has a user handle only once registered somewhere: register it with a ceremony of
    // its own that is never finished.
    let _ = unknown.register(
        &serde_json::json!({
            "rp": {"id": "auth.example.com", "name": "x"},
            "user": {"id": "AAAAAAAAAAAAAAAAAAAAAA", "name": "@bruno:example.com", "displayName": "bruno"},
            "challenge": "AAAAAAAAAAAAAAAAAAAAAA",
        }),
        ORIGIN,
    );
    let answer = unknown.sign_in(&options, ORIGIN).to_string();
    let refused = stranger
        .post("/login/passkey", &[("csrf", &csrf), ("answer", &answer)])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(!is_signed_in(&mut stranger).await);

    // The right passkey for another origin (a phishing site relaying the ceremony).
    let options = json(&stranger.post("/login/passkey/options", &[]).await);
    let answer = registered
        .sign_in(&options, "https://auth.example.com.evil.test")
        .to_string();
    let refused = stranger
        .post("/login/passkey", &[("csrf", &csrf), ("answer", &answer)])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(!is_signed_in(&mut stranger).await);

    // Without the form token.
    let options = json(&stranger.post("/login/passkey/options", &[]).await);
    let answer = registered.sign_in(&options, ORIGIN).to_string();
    let refused = stranger
        .post("/login/passkey", &[("csrf", "forged"), ("answer", &answer)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(!is_signed_in(&mut stranger).await);
}

#[tokio::test]
async fn a_passkey_is_the_second_step_after_the_password_and_only_its_owners() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "carla").await;
    let mut carlas = Authenticator::new();
    add(&mut browser, &mut carlas, "Phone").await;
    let (mut dans_browser, _) = signed_in(&app, "dan").await;
    let mut dans = Authenticator::new();
    add(&mut dans_browser, &mut dans, "Dan's").await;

    let (mut second, page) = first_factor(&app, "carla").await;
    assert!(
        page.body.contains("data-passkey=\"get\""),
        "the second step offers the passkey: {}",
        page.body
    );
    assert!(
        page.body
            .contains("Use your passkey, or enter one of your recovery codes."),
        "no authenticator app: the code field takes recovery codes only: {}",
        page.body
    );
    let csrf = page.field("csrf").expect("csrf");

    // Dan's passkey does not finish Carla's sign-in.
    let options = json(&second.post("/login/passkey/options", &[]).await);
    let answer = dans.sign_in(&options, ORIGIN).to_string();
    let refused = second
        .post(
            "/login/second-factor",
            &[("csrf", &csrf), ("answer", &answer)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(!is_signed_in(&mut second).await);

    let options = json(&second.post("/login/passkey/options", &[]).await);
    let answer = carlas.sign_in(&options, ORIGIN).to_string();
    let done = second
        .post(
            "/login/second-factor",
            &[("csrf", &csrf), ("answer", &answer)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(is_signed_in(&mut second).await);

    // The Matrix login API cannot ask for the passkey: it refuses the password.
    let response = login(&app, &password_body("carla", &serde_json::json!({}))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(response).await["errcode"], "M_FORBIDDEN");
}

#[tokio::test]
async fn adding_asks_who_you_are_and_removing_the_last_passkey_takes_the_codes_along() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "erin").await;
    let mut key = Authenticator::new();
    let added = add(&mut browser, &mut key, "Key").await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);

    // Registering the same authenticator twice is refused (it is excluded, and stored once).
    let again = add(&mut browser, &mut key, "Key again").await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
    assert!(
        again.body.contains("This passkey is registered already."),
        "{}",
        again.body
    );

    // Later, the sign-in is not recent: the options need the password.
    app.clock.advance(chrono::TimeDelta::minutes(10));
    let csrf = csrf_of(&mut browser, PAGE).await;
    let refused = browser
        .post(&format!("{PAGE}/passkeys/options"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(json(&refused)["error"].is_string(), "{}", refused.body);
    let wrong = browser
        .post(
            &format!("{PAGE}/passkeys/options"),
            &[("csrf", &csrf), ("password", "wrong")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    let right = browser
        .post(
            &format!("{PAGE}/passkeys/options"),
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.body);

    // Removal asks again once the sign-in is old, and only removes one's own.
    app.clock.advance(chrono::TimeDelta::minutes(10));
    let page = browser.get(PAGE).await;
    let id = page.field("id").expect("the passkey's id");
    let csrf = page.field("csrf").expect("csrf");
    let refused = browser
        .post(
            &format!("{PAGE}/passkeys/remove"),
            &[("csrf", &csrf), ("id", &id)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    let removed = browser
        .post(
            &format!("{PAGE}/passkeys/remove"),
            &[("csrf", &csrf), ("id", &id), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    let page = browser.get(&removed.location_path()).await;
    assert!(page.body.contains("Passkey removed."), "{}", page.body);
    assert!(page.body.contains("No passkeys yet."), "{}", page.body);
    assert!(
        !page.body.contains("recovery-codes"),
        "no second factor left, no recovery codes: {}",
        page.body
    );
    // No second step any more.
    let mut fresh = Browser::new(&app);
    let done = log_in(&mut fresh, "", "erin", PASSWORD).await;
    assert_eq!(done.location_path(), "/");
}

#[tokio::test]
async fn a_passkey_sign_in_meets_the_requirement_of_a_second_factor() {
    let app = app_with(|config| {
        config.account.second_factors.required = SecondFactorRequirement::Everyone;
    })
    .await;
    crate::common::add_user_with_password(&app, "fiona", PASSWORD, false).await;
    // Required, and without a factor yet: an authenticator app first, after the password.
    let (mut browser, page) = first_factor(&app, "fiona").await;
    let secret = crate::second_factors::shown_secret(&page);
    let csrf = page.field("csrf").expect("csrf");
    let code = crate::second_factors::code(&app, &secret, 0);
    let signed = browser
        .post("/login/second-factor", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert!(is_signed_in(&mut browser).await);

    let mut key = Authenticator::new();
    let added = add(&mut browser, &mut key, "Key").await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    // A passkey verified by its authenticator is two factors in one: no second step.
    let mut fresh = Browser::new(&app);
    let (_, done) = sign_in_with(&mut fresh, &mut key).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/");
    assert!(is_signed_in(&mut fresh).await);

    // With the authenticator app left, the passkey may go.
    let page = browser.get(PAGE).await;
    let id = page.field("id").expect("the passkey's id");
    let csrf = page.field("csrf").expect("csrf");
    let removed = browser
        .post(
            &format!("{PAGE}/passkeys/remove"),
            &[("csrf", &csrf), ("id", &id), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
}

#[tokio::test]
async fn the_operator_can_switch_passkeys_or_passkey_sign_in_off() {
    let app = app_with(|config| {
        config.account.second_factors.passkey_sign_in_allowed = false;
    })
    .await;
    let (mut browser, _) = signed_in(&app, "gus").await;
    let mut key = Authenticator::new();
    let added = add(&mut browser, &mut key, "Key").await;
    assert_eq!(
        added.status,
        StatusCode::OK,
        "still a second factor: {}",
        added.body
    );
    let mut fresh = Browser::new(&app);
    let login_page = fresh.get("/login").await;
    assert!(
        !login_page.body.contains("data-passkey"),
        "{}",
        login_page.body
    );
    let csrf = login_page.field("csrf").expect("csrf");
    let options = json(&fresh.post("/login/passkey/options", &[]).await);
    let answer = key.sign_in(&options, ORIGIN).to_string();
    let refused = fresh
        .post("/login/passkey", &[("csrf", &csrf), ("answer", &answer)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(!is_signed_in(&mut fresh).await);

    let app = app_with(|config| {
        config.account.second_factors.passkeys_allowed = false;
        config.account.second_factors.passkey_sign_in_allowed = false;
    })
    .await;
    let (mut browser, _) = signed_in(&app, "hana").await;
    let page = browser.get(PAGE).await;
    assert!(!page.body.contains("data-passkey"), "{}", page.body);
    assert!(
        page.body.contains("This server does not offer passkeys."),
        "{}",
        page.body
    );
    let csrf = page.field("csrf").expect("csrf");
    let refused = browser
        .post(&format!("{PAGE}/passkeys/options"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let refused = Browser::new(&app).post("/login/passkey/options", &[]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
}

#[tokio::test]
async fn a_passkey_confirms_who_one_is_where_an_account_page_asks_for_the_password() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "ines").await;
    let mut key = Authenticator::new();
    add(&mut browser, &mut key, "Key").await;
    let (mut jons_browser, _) = signed_in(&app, "jon").await;
    let mut jons = Authenticator::new();
    add(&mut jons_browser, &mut jons, "Jon's").await;

    // Ten minutes later the sensitive forms ask for the password, and offer the passkey.
    app.clock.advance(chrono::TimeDelta::minutes(10));
    let page = browser.get("/account/password").await;
    assert!(page.body.contains("data-passkey-reauth"), "{}", page.body);
    let csrf = page.field("csrf").expect("csrf");
    let reauthenticate = async |browser: &mut Browser<'_>, who: &mut Authenticator, next: &str| {
        let options = json(&browser.post("/login/passkey/options", &[]).await);
        let answer = who.sign_in(&options, ORIGIN).to_string();
        browser
            .post(
                "/account/reauthenticate",
                &[("csrf", &csrf), ("answer", &answer), ("next", next)],
            )
            .await
    };

    // Someone else's passkey proves nothing about Ines.
    let refused = reauthenticate(&mut browser, &mut jons, "/account/password").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    let csrf2 = csrf_of(&mut browser, PAGE).await;
    let still = browser
        .post(&format!("{PAGE}/passkeys/options"), &[("csrf", &csrf2)])
        .await;
    assert_eq!(still.status, StatusCode::UNAUTHORIZED, "{}", still.body);

    let done = reauthenticate(&mut browser, &mut key, "/account/password").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/account/password");
    // The sign-in is recent again: no password asked.
    let csrf2 = csrf_of(&mut browser, PAGE).await;
    let options = browser
        .post(&format!("{PAGE}/passkeys/options"), &[("csrf", &csrf2)])
        .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);

    // Only back to an account page of this server.
    let done = reauthenticate(&mut browser, &mut key, "https://evil.test/account").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/account/");
    let done = reauthenticate(&mut browser, &mut key, "//evil.test/account").await;
    assert_eq!(done.location_path(), "/account/");

    // Deactivation takes the password every time: no passkey there.
    let page = browser.get("/account/deactivate").await;
    assert!(!page.body.contains("data-passkey-reauth"), "{}", page.body);
}
