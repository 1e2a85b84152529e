//! Password recovery by email: `/recover` says the same for every address, the link sent to
//! an active user's address sets a new password once, within 10 minutes, and signs them in.

use crate::common::{
    TestApp,
    account::{PASSWORD, log_in},
    add_user_with_password, app, app_with,
    browser::{Browser, Page},
    compat::run_jobs,
    oauth::{add_email, advance_minutes, lock},
};
use axum::http::StatusCode;
use portcullis_model::User;

const NEW_PASSWORD: &str = "purple monkey dishwasher lantern";

async fn recovery_app() -> TestApp {
    app_with(|config| config.account.password_recovery_enabled = true).await
}

async fn alice_with_email(app: &TestApp) -> User {
    let alice = add_user_with_password(app, "alice", PASSWORD, false).await;
    add_email(app, &alice, "alice@example.com").await;
    alice
}

async fn ask(browser: &mut Browser<'_>, email: &str) -> Page {
    let form = browser.get("/recover").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.field("csrf").expect("a csrf field");
    browser
        .post("/recover", &[("csrf", &csrf), ("email", email)])
        .await
}

/// The path of the recovery links sent to `to`, oldest first, after running the queue.
async fn links_sent_to(app: &TestApp, to: &str) -> Vec<String> {
    run_jobs(app).await;
    app.mailer
        .sent()
        .iter()
        .filter(|sent| sent.email.to == to)
        .map(|sent| {
            let text = &sent.email.text;
            let start = text
                .find("/recover/complete?ticket=")
                .expect("the email has the link");
            let end = text[start..]
                .find(char::is_whitespace)
                .map_or(text.len(), |end| start + end);
            text[start..end].to_owned()
        })
        .collect()
}

async fn set_password(browser: &mut Browser<'_>, link: &str, new: &str, confirm: &str) -> Page {
    let form = browser.get(link).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.field("csrf").expect("a csrf field");
    let ticket = form.field("ticket").expect("a ticket field");
    browser
        .post(
            link,
            &[
                ("csrf", &csrf),
                ("ticket", &ticket),
                ("new_password", new),
                ("new_password_confirm", confirm),
            ],
        )
        .await
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_page_and_no_email() {
    let app = recovery_app().await;
    alice_with_email(&app).await;
    let mut browser = Browser::new(&app);

    let known = ask(&mut browser, "alice@example.com").await;
    let unknown = ask(&mut browser, "nobody@example.com").await;

    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(
        known.body.replace("alice@example.com", "X"),
        unknown.body.replace("nobody@example.com", "X"),
        "nothing tells the two apart"
    );
    assert!(known.body.contains("If an account has the address"));
    assert_eq!(links_sent_to(&app, "alice@example.com").await.len(), 1);
    assert!(links_sent_to(&app, "nobody@example.com").await.is_empty());
    assert_eq!(app.mailer.sent().len(), 1);
}

#[tokio::test]
async fn the_link_sets_a_new_password_once_and_signs_in() {
    let app = recovery_app().await;
    alice_with_email(&app).await;
    // The new password must be newer than the first one, which the frozen clock would not make.
    advance_minutes(&app, 1);
    let mut browser = Browser::new(&app);
    ask(&mut browser, "ALICE@example.com").await;
    let links = links_sent_to(&app, "alice@example.com").await;
    let link = links.first().expect("a link");
    let ticket = link.rsplit('=').next().expect("a ticket");
    assert_eq!(ticket.len(), 32);
    assert!(ticket.chars().all(|c| c.is_ascii_alphanumeric()));

    let mut other = Browser::new(&app);
    let done = set_password(&mut other, link, NEW_PASSWORD, NEW_PASSWORD).await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/account/");
    let account = other.get("/account/").await;
    assert_eq!(account.status, StatusCode::OK, "signed in");
    assert!(account.body.contains("alice"));

    let again = other.get(link).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.body.contains("This link has expired"));

    let mut fresh = Browser::new(&app);
    let old = log_in(&mut fresh, "", "alice", PASSWORD).await;
    assert_ne!(
        old.status,
        StatusCode::SEE_OTHER,
        "the old password is gone"
    );
    let new = log_in(&mut fresh, "", "alice", NEW_PASSWORD).await;
    assert_eq!(new.status, StatusCode::SEE_OTHER, "{}", new.body);
}

/// MAS sends recovery links to `/account/password/recovery?ticket=`; that path works too.
#[tokio::test]
async fn the_link_also_works_under_the_path_of_mas() {
    let app = recovery_app().await;
    alice_with_email(&app).await;
    advance_minutes(&app, 1);
    let mut browser = Browser::new(&app);
    ask(&mut browser, "alice@example.com").await;
    let links = links_sent_to(&app, "alice@example.com").await;
    let link = links
        .first()
        .expect("a link")
        .replace("/recover/complete?", "/account/password/recovery?");

    let done = set_password(&mut Browser::new(&app), &link, NEW_PASSWORD, NEW_PASSWORD).await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/account/");
    let new = log_in(&mut Browser::new(&app), "", "alice", NEW_PASSWORD).await;
    assert_eq!(new.status, StatusCode::SEE_OTHER, "{}", new.body);
}

#[tokio::test]
async fn a_weak_or_mismatched_password_shows_the_form_again_and_keeps_the_link() {
    let app = recovery_app().await;
    alice_with_email(&app).await;
    let mut browser = Browser::new(&app);
    ask(&mut browser, "alice@example.com").await;
    let link = links_sent_to(&app, "alice@example.com").await.remove(0);

    let mismatch = set_password(&mut browser, &link, NEW_PASSWORD, "something else").await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.body.contains("do not match"));
    let weak = set_password(&mut browser, &link, "a", "a").await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);

    let done = set_password(&mut browser, &link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
}

#[tokio::test]
async fn the_link_expires_after_ten_minutes() {
    let app = recovery_app().await;
    alice_with_email(&app).await;
    let mut browser = Browser::new(&app);
    ask(&mut browser, "alice@example.com").await;
    let link = links_sent_to(&app, "alice@example.com").await.remove(0);
    let form = browser.get(&link).await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.field("csrf").expect("a csrf field");
    let ticket = form.field("ticket").expect("a ticket field");

    advance_minutes(&app, 10);

    let page = browser.get(&link).await;
    assert_eq!(page.status, StatusCode::GONE);
    let posted = browser
        .post(
            &link,
            &[
                ("csrf", &csrf),
                ("ticket", &ticket),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::GONE, "{}", posted.body);
    let mut fresh = Browser::new(&app);
    let old = log_in(&mut fresh, "", "alice", PASSWORD).await;
    assert_eq!(
        old.status,
        StatusCode::SEE_OTHER,
        "the password is unchanged"
    );
}

#[tokio::test]
async fn an_unknown_ticket_is_a_readable_page() {
    let app = recovery_app().await;
    let mut browser = Browser::new(&app);

    let page = browser
        .get("/recover/complete?ticket=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;

    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("This link is not valid"));
}

#[tokio::test]
async fn a_locked_user_gets_no_link() {
    let app = recovery_app().await;
    let alice = alice_with_email(&app).await;
    lock(&app, &alice).await;
    let mut browser = Browser::new(&app);

    let page = ask(&mut browser, "alice@example.com").await;

    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("If an account has the address"));
    assert!(links_sent_to(&app, "alice@example.com").await.is_empty());
}

#[tokio::test]
async fn requests_are_rate_limited_per_address() {
    let app = recovery_app().await;
    alice_with_email(&app).await;
    let mut browser = Browser::new(&app);

    for _ in 0..3 {
        let page = ask(&mut browser, "alice@example.com").await;
        assert_eq!(page.status, StatusCode::OK);
    }
    let limited = ask(&mut browser, "Alice@example.com").await;

    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(links_sent_to(&app, "alice@example.com").await.len(), 3);
}

#[tokio::test]
async fn the_request_needs_the_csrf_token() {
    let app = recovery_app().await;
    alice_with_email(&app).await;
    let mut browser = Browser::new(&app);

    let page = browser
        .post(
            "/recover",
            &[("csrf", "forged"), ("email", "alice@example.com")],
        )
        .await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(links_sent_to(&app, "alice@example.com").await.is_empty());
}

#[tokio::test]
async fn when_disabled_the_pages_are_not_found_and_not_linked() {
    let app = app().await;
    let mut browser = Browser::new(&app);

    let form = browser.get("/recover").await;
    let complete = browser.get("/recover/complete?ticket=x").await;
    let login = browser.get("/login").await;

    assert_eq!(form.status, StatusCode::NOT_FOUND);
    assert_eq!(complete.status, StatusCode::NOT_FOUND);
    assert!(!login.body.contains("/recover"));

    let enabled = recovery_app().await;
    let mut browser = Browser::new(&enabled);
    let login = browser.get("/login").await;
    assert!(login.body.contains("/recover\""), "{}", login.body);
    assert!(login.body.contains("Forgot your password?"));
}
