//! Accounts without a password (`account.second_factors.passkey_only_accounts_allowed`): a
//! user with a passkey gives up their password, signs in with the passkey alone, and cannot
//! remove what would leave them no way in; a password can be set again. And a second factor
//! required at sign-in may be a passkey rather than an authenticator app.

use axum::http::StatusCode;
use portcullis_config::SecondFactorRequirement;

use crate::common::{
    TestApp,
    account::{PASSWORD, csrf_of, log_in, signed_in},
    app, app_with,
    authenticator::Authenticator,
    browser::Browser,
};
use crate::passkeys::{ORIGIN, add, json, sign_in_with};
use crate::second_factors::{first_factor, is_signed_in};

const PASSWORD_PAGE: &str = "/account/password";
const FACTORS_PAGE: &str = "/account/second-factors";

async fn passkey_only_allowed() -> TestApp {
    app_with(|config| {
        config.account.second_factors.passkey_only_accounts_allowed = true;
    })
    .await
}

/// Gives up the password of `browser`'s user (signed in a moment ago: no password asked).
async fn remove_password(browser: &mut Browser<'_>) -> crate::common::browser::Page {
    let csrf = csrf_of(browser, PASSWORD_PAGE).await;
    browser
        .post(&format!("{PASSWORD_PAGE}/remove"), &[("csrf", &csrf)])
        .await
}

#[tokio::test]
async fn a_user_with_a_passkey_gives_up_their_password_and_signs_in_with_the_passkey() {
    let app = passkey_only_allowed().await;
    let (mut browser, _) = signed_in(&app, "kira").await;

    // No passkey yet: nothing to sign in with instead, so no removal offered or done.
    let page = browser.get(PASSWORD_PAGE).await;
    assert!(
        !page.body.contains("/account/password/remove"),
        "{}",
        page.body
    );
    let refused = remove_password(&mut browser).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused.body.contains("Add a passkey first"),
        "{}",
        refused.body
    );

    let mut key = Authenticator::new();
    add(&mut browser, &mut key, "Key").await;
    let page = browser.get(PASSWORD_PAGE).await;
    assert!(
        page.body.contains("Sign in with passkeys only"),
        "{}",
        page.body
    );

    // Later, the removal asks who one is: a wrong password changes nothing.
    app.clock.advance(chrono::TimeDelta::minutes(10));
    let csrf = csrf_of(&mut browser, PASSWORD_PAGE).await;
    let wrong = browser
        .post(
            &format!("{PASSWORD_PAGE}/remove"),
            &[("csrf", &csrf), ("current_password", "wrong")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    let mut check = Browser::new(&app);
    let still = log_in(&mut check, "", "kira", PASSWORD).await;
    assert_eq!(still.status, StatusCode::SEE_OTHER, "{}", still.body);

    let removed = browser
        .post(
            &format!("{PASSWORD_PAGE}/remove"),
            &[("csrf", &csrf), ("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    let page = browser.get(&removed.location_path()).await;
    assert!(
        page.body.contains("Your password has been removed."),
        "{}",
        page.body
    );
    assert!(page.body.contains("Set a password"), "{}", page.body);
    assert!(
        !page.body.contains("name=\"current_password\""),
        "no password to ask for: {}",
        page.body
    );

    // The password no longer signs in; the passkey does, alone.
    let mut fresh = Browser::new(&app);
    let refused = log_in(&mut fresh, "", "kira", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(!is_signed_in(&mut fresh).await);
    let (_, done) = sign_in_with(&mut fresh, &mut key).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(is_signed_in(&mut fresh).await);

    // Its last passkey is its only way in: it stays, and so do the second factors.
    let page = browser.get(FACTORS_PAGE).await;
    let id = page.field("id").expect("the passkey's id");
    let csrf = page.field("csrf").expect("csrf");
    let kept = browser
        .post(
            &format!("{FACTORS_PAGE}/passkeys/remove"),
            &[("csrf", &csrf), ("id", &id)],
        )
        .await;
    assert_eq!(kept.status, StatusCode::FORBIDDEN, "{}", kept.body);
    assert!(
        kept.body.contains("You sign in with this passkey"),
        "{}",
        kept.body
    );
    let kept = browser
        .post(&format!("{FACTORS_PAGE}/remove"), &[("csrf", &csrf)])
        .await;
    assert_eq!(kept.status, StatusCode::FORBIDDEN, "{}", kept.body);
    assert!(
        kept.body.contains("You sign in with your passkeys"),
        "{}",
        kept.body
    );
    let (_, again) = sign_in_with(&mut Browser::new(&app), &mut key).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);

    // A second passkey lets the first go.
    let mut phone = Authenticator::new();
    let added = add(&mut browser, &mut phone, "Phone").await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let removed = browser
        .post(
            &format!("{FACTORS_PAGE}/passkeys/remove"),
            &[("csrf", &csrf), ("id", &id)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);

    // Ten minutes on, setting a password asks for a passkey first (there is no password to
    // type), and then takes it.
    app.clock.advance(chrono::TimeDelta::minutes(10));
    let page = browser.get(PASSWORD_PAGE).await;
    assert!(page.body.contains("data-passkey-reauth"), "{}", page.body);
    assert!(
        page.body.contains("Confirm with a passkey"),
        "{}",
        page.body
    );
    let csrf = page.field("csrf").expect("csrf");
    let new_password = "a brand new passphrase for kira";
    let set = [
        ("csrf", csrf.as_str()),
        ("new_password", new_password),
        ("new_password_confirm", new_password),
    ];
    let refused = browser.post(PASSWORD_PAGE, &set).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("Confirm that it is you with a passkey"),
        "{}",
        refused.body
    );
    let options = json(&browser.post("/login/passkey/options", &[]).await);
    let answer = phone.sign_in(&options, ORIGIN).to_string();
    let confirmed = browser
        .post(
            "/account/reauthenticate",
            &[
                ("csrf", &csrf),
                ("answer", &answer),
                ("next", PASSWORD_PAGE),
            ],
        )
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.body
    );
    let done = browser.post(PASSWORD_PAGE, &set).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let mut fresh = Browser::new(&app);
    let signed = log_in(&mut fresh, "", "kira", new_password).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
}

#[tokio::test]
async fn without_the_setting_the_password_stays() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "lena").await;
    let mut key = Authenticator::new();
    add(&mut browser, &mut key, "Key").await;
    let page = browser.get(PASSWORD_PAGE).await;
    assert!(
        !page.body.contains("/account/password/remove"),
        "{}",
        page.body
    );
    let refused = remove_password(&mut browser).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("This server does not let accounts do without a password."),
        "{}",
        refused.body
    );
    let mut fresh = Browser::new(&app);
    let still = log_in(&mut fresh, "", "lena", PASSWORD).await;
    assert_eq!(still.status, StatusCode::SEE_OTHER, "{}", still.body);
}

#[tokio::test]
async fn a_required_second_factor_may_be_a_passkey_added_at_sign_in() {
    let app = app_with(|config| {
        config.account.second_factors.required = SecondFactorRequirement::Everyone;
    })
    .await;
    crate::common::add_user_with_password(&app, "milo", PASSWORD, false).await;
    let (mut browser, page) = first_factor(&app, "milo").await;
    assert!(page.body.contains("or add a passkey"), "{}", page.body);
    assert!(
        page.body.contains("data-passkey=\"create\""),
        "{}",
        page.body
    );
    let csrf = page.field("csrf").expect("csrf");

    // The options are only for the sign-in waiting for its second factor.
    let nobody = Browser::new(&app)
        .post("/login/second-factor/passkey/options", &[("csrf", &csrf)])
        .await;
    assert_eq!(nobody.status, StatusCode::FORBIDDEN, "{}", nobody.body);
    let options = browser
        .post("/login/second-factor/passkey/options", &[("csrf", &csrf)])
        .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let options = json(&options);
    assert_eq!(options["user"]["name"], "@milo:example.com", "{options}");

    let mut key = Authenticator::new();
    let answer = key.register(&options, ORIGIN).to_string();
    // A broken answer adds nothing and signs nobody in.
    let refused = browser
        .post(
            "/login/second-factor",
            &[("csrf", &csrf), ("answer", "{\"id\": \"nope\"}")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert!(!is_signed_in(&mut browser).await);

    let added = browser
        .post(
            "/login/second-factor",
            &[("csrf", &csrf), ("answer", &answer), ("name", "Laptop")],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(
        added.body.matches("<li><code>").count(),
        10,
        "its recovery codes, once: {}",
        added.body
    );
    assert!(is_signed_in(&mut browser).await);
    let page = browser.get(FACTORS_PAGE).await;
    assert!(page.body.contains("Laptop"), "{}", page.body);

    // Next time: the password, then the passkey (or the passkey alone).
    let (mut next, page) = first_factor(&app, "milo").await;
    assert!(page.body.contains("data-passkey=\"get\""), "{}", page.body);
    let (_, done) = sign_in_with(&mut Browser::new(&app), &mut key).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(!is_signed_in(&mut next).await);
}
