//! The sign-in page (`/login`): what it tells, and to whom.

use crate::common::{
    account::{PASSWORD, log_in},
    add_user_with_password, app,
    browser::Browser,
    oauth::{deactivate, lock},
};
use axum::http::StatusCode;

#[tokio::test]
async fn a_wrong_password_gets_the_same_answer_for_unknown_locked_and_deactivated_accounts() {
    let app = app().await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let bob = add_user_with_password(&app, "bob", PASSWORD, false).await;
    lock(&app, &bob).await;
    let carol = add_user_with_password(&app, "carol", PASSWORD, false).await;
    deactivate(&app, &carol).await;

    for username in ["alice", "bob", "carol", "nobody"] {
        let page = log_in(&mut Browser::new(&app), "", username, "not the password").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{username}");
        assert!(
            page.body.contains("Wrong username or password."),
            "{username}: {}",
            page.body
        );
        assert!(
            !page.body.contains("locked") && !page.body.contains("deactivated"),
            "{username}: the state of an account is for whoever knows its password"
        );
    }
}

#[tokio::test]
async fn the_right_password_of_a_locked_or_deactivated_account_is_told_why_it_cannot_sign_in() {
    let app = app().await;
    let bob = add_user_with_password(&app, "bob", PASSWORD, false).await;
    lock(&app, &bob).await;
    let carol = add_user_with_password(&app, "carol", PASSWORD, false).await;
    deactivate(&app, &carol).await;

    let locked = log_in(&mut Browser::new(&app), "", "bob", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::FORBIDDEN);
    assert!(locked.body.contains("This account is locked"));
    let deactivated = log_in(&mut Browser::new(&app), "", "carol", PASSWORD).await;
    assert_eq!(deactivated.status, StatusCode::FORBIDDEN);
    assert!(
        deactivated
            .body
            .contains("This account has been deactivated")
    );
}

#[tokio::test]
async fn the_sign_in_page_offers_each_enabled_provider_keeping_where_the_user_was_going() {
    let app = app().await;
    crate::common::add_provider(&app, "pocketid", "Pocket ID", true).await;
    crate::common::add_provider(&app, "old", "Old IdP", false).await;
    let page = Browser::new(&app)
        .get("/login?kind=manage_account&action=org.matrix.profile")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Continue with Pocket ID"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(
            "/upstream/authorize/pocketid?kind=manage_account&amp;action=org.matrix.profile"
        ),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Old IdP"),
        "a disabled provider is not offered"
    );
    assert!(
        page.body.contains("name=\"password\""),
        "the password form stays"
    );
}

#[tokio::test]
async fn registration_offers_the_providers_too_and_alone_when_password_registration_is_closed() {
    let app =
        crate::common::app_with(|config| config.account.password_registration_enabled = true).await;
    crate::common::add_branded_provider(&app, "github", "GitHub", true, "github").await;
    let page = Browser::new(&app).get("/register/password").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Continue with GitHub"), "{}", page.body);
    assert!(page.body.contains("name=\"password\""), "{}", page.body);
    // The known brand's logo, served by the server itself.
    assert!(
        page.body
            .contains(r#"<img class="brand-logo" src="/assets/brands/github.svg""#),
        "{}",
        page.body
    );
    let logo = Browser::new(&app).get("/assets/brands/github.svg").await;
    assert_eq!(logo.status, StatusCode::OK, "{}", logo.body);
    assert!(logo.body.starts_with("<svg"), "{}", logo.body);
    assert_eq!(
        Browser::new(&app)
            .get("/assets/brands/unknown.svg")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let closed =
        crate::common::app_with(|config| config.account.password_registration_enabled = false)
            .await;
    assert_eq!(
        Browser::new(&closed).get("/register").await.status,
        StatusCode::NOT_FOUND,
        "no way to register at all"
    );
    crate::common::add_provider(&closed, "pocketid", "Pocket ID", true).await;
    let page = Browser::new(&closed)
        .get("/register?kind=manage_account")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Continue with Pocket ID"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("/upstream/authorize/pocketid?kind=manage_account"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("name=\"password\""), "{}", page.body);
    assert!(!page.body.contains("<img"), "no logo for an unknown brand");
}

#[tokio::test]
async fn without_passwords_the_one_provider_is_where_sign_in_goes_and_several_are_offered() {
    let app = crate::common::app_with(|config| config.passwords.enabled = false).await;
    let page = Browser::new(&app).get("/login").await;
    assert_eq!(
        page.status,
        StatusCode::NOT_FOUND,
        "no way in: {}",
        page.body
    );

    crate::common::add_provider(&app, "pocketid", "Pocket ID", true).await;
    let page = Browser::new(&app)
        .get("/login?login_hint=alice%40example.com")
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("https://auth.example.com/upstream/authorize/pocketid?login_hint=alice%40example.com")
    );

    crate::common::add_provider(&app, "google", "Google", true).await;
    let page = Browser::new(&app).get("/login").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Continue with Google") && page.body.contains("Continue with Pocket ID")
    );
    assert!(
        !page.body.contains("name=\"password\""),
        "no password form: {}",
        page.body
    );
}
