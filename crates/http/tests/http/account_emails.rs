//! The email addresses of the account page: adding one with a code, removing one with the
//! re-authentication, the provisioning that follows each, and the switch that turns it off.

use crate::common::{
    TestApp,
    account::{PASSWORD, csrf_of, signed_in},
    app, app_with,
    browser::{Browser, Page},
    compat::run_jobs,
    oauth::{add_email, advance_minutes},
};
use axum::http::StatusCode;
use portcullis_model::{JobStatus, User};

/// The code in the newest email sent to `to`, after running the queued jobs.
async fn code_sent_to(app: &TestApp, to: &str) -> String {
    run_jobs(app).await;
    let sent = app.mailer.sent();
    let email = sent
        .iter()
        .rev()
        .find(|sent| sent.email.to == to)
        .expect("a verification email was sent");
    let code = email
        .email
        .subject
        .rsplit(' ')
        .next()
        .expect("the code ends the subject")
        .to_owned();
    assert_eq!(code.len(), 6, "{}", email.email.subject);
    code
}

async fn emails_of(app: &TestApp, user: &User) -> Vec<String> {
    let mut repo = app.database.transaction().await.expect("tx");
    let emails = repo
        .user_emails()
        .list_for_user(user)
        .await
        .expect("listed");
    repo.rollback().await.expect("rollback");
    emails.into_iter().map(|email| email.email).collect()
}

async fn email_id(app: &TestApp, user: &User, address: &str) -> String {
    let mut repo = app.database.transaction().await.expect("tx");
    let emails = repo
        .user_emails()
        .list_for_user(user)
        .await
        .expect("listed");
    repo.rollback().await.expect("rollback");
    emails
        .into_iter()
        .find(|email| email.email == address)
        .expect("the address is the user's")
        .id
        .to_string()
}

/// Posts the "Add an address" form of the profile page.
async fn add_address(browser: &mut Browser<'_>, address: &str) -> Page {
    let csrf = csrf_of(browser, "/account/").await;
    browser
        .post("/account/emails", &[("csrf", &csrf), ("email", address)])
        .await
}

async fn submit_code(browser: &mut Browser<'_>, verify: &str, code: &str) -> Page {
    let csrf = csrf_of(browser, verify).await;
    browser
        .post(verify, &[("csrf", &csrf), ("code", code)])
        .await
}

async fn remove(browser: &mut Browser<'_>, email_id: &str, password: &str) -> Page {
    let csrf = csrf_of(browser, "/account/").await;
    browser
        .post(
            &format!("/account/emails/{email_id}/remove"),
            &[("csrf", &csrf), ("password", password)],
        )
        .await
}

#[tokio::test]
async fn an_address_is_added_with_the_code_and_pushed_to_the_homeserver() {
    let app = app().await;
    let (mut browser, user) = signed_in(&app, "alice").await;

    let profile = browser.get("/account/").await;
    assert!(profile.body.contains(r#"/account/emails""#));

    let posted = add_address(&mut browser, "Alice@Example.com").await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let verify = posted.location_path();
    assert!(verify.starts_with("/account/emails/verify/"), "{verify}");
    assert!(
        emails_of(&app, &user).await.is_empty(),
        "not before the code"
    );

    let code = code_sent_to(&app, "Alice@Example.com").await;
    let done = submit_code(&mut browser, &verify, &code).await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/account/?done=email_added");
    assert_eq!(emails_of(&app, &user).await, ["Alice@Example.com"]);
    let statuses = run_jobs(&app).await;
    assert!(statuses.contains(&JobStatus::Completed), "{statuses:?}");
    assert_eq!(
        app.homeserver.user("alice").expect("provisioned").emails,
        ["Alice@Example.com"]
    );
    let profile = browser.get("/account/?done=email_added").await;
    assert!(profile.body.contains("Alice@Example.com"));
    assert!(profile.body.contains("The email address has been added."));

    let again = browser.get(&verify).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "a code is used once");
}

#[tokio::test]
async fn a_french_browser_gets_the_verification_email_in_french() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    browser.set_language("fr-FR, en;q=0.5");

    let posted = add_address(&mut browser, "alice@example.com").await;

    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let code = code_sent_to(&app, "alice@example.com").await;
    let sent = app.mailer.sent();
    let email = &sent.last().expect("an email").email;
    assert_eq!(
        email.subject,
        format!("Votre code de vérification est {code}")
    );
    assert!(email.text.starts_with("Bonjour,"), "{}", email.text);
    assert!(email.text.contains(&code), "{}", email.text);
    assert!(email.html.contains("<html lang=\"fr\">"), "{}", email.html);
}

#[tokio::test]
async fn an_english_browser_gets_the_verification_email_in_english() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;

    add_address(&mut browser, "alice@example.com").await;

    let code = code_sent_to(&app, "alice@example.com").await;
    let sent = app.mailer.sent();
    let email = &sent.last().expect("an email").email;
    assert_eq!(email.subject, format!("Your verification code is {code}"));
    assert!(email.text.starts_with("Hello,"), "{}", email.text);
}

#[tokio::test]
async fn a_wrong_code_shows_the_form_again_and_adds_nothing() {
    let app = app().await;
    let (mut browser, user) = signed_in(&app, "alice").await;
    let verify = add_address(&mut browser, "alice@example.com")
        .await
        .location_path();
    let code = code_sent_to(&app, "alice@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };

    let refused = submit_code(&mut browser, &verify, wrong).await;

    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("This code is not right."));
    assert!(emails_of(&app, &user).await.is_empty());

    let right = submit_code(&mut browser, &verify, &code).await;
    assert_eq!(right.status, StatusCode::SEE_OTHER, "{}", right.body);
    assert_eq!(emails_of(&app, &user).await, ["alice@example.com"]);
}

#[tokio::test]
async fn an_address_already_used_or_malformed_is_refused_without_a_code() {
    let app = app().await;
    let bob = crate::common::add_user_with_password(&app, "bob", PASSWORD, false).await;
    add_email(&app, &bob, "bob@example.com").await;
    let (mut browser, alice) = signed_in(&app, "alice").await;

    let taken = add_address(&mut browser, "BOB@example.com").await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.body.contains("This email address is already in use."));
    assert!(!taken.body.contains("bob</"), "whose it is is not said");

    let malformed = add_address(&mut browser, "not an address").await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(malformed.body.contains("This email address is not valid"));

    run_jobs(&app).await;
    assert!(app.mailer.sent().is_empty());
    assert!(emails_of(&app, &alice).await.is_empty());
}

#[tokio::test]
async fn an_address_taken_while_the_code_was_pending_is_refused() {
    let app = app().await;
    let (mut browser, alice) = signed_in(&app, "alice").await;
    let verify = add_address(&mut browser, "shared@example.com")
        .await
        .location_path();
    let code = code_sent_to(&app, "shared@example.com").await;
    let bob = crate::common::add_user_with_password(&app, "bob", PASSWORD, false).await;
    add_email(&app, &bob, "shared@example.com").await;

    let refused = submit_code(&mut browser, &verify, &code).await;

    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .body
            .contains("This email address is already in use.")
    );
    assert!(emails_of(&app, &alice).await.is_empty());
}

#[tokio::test]
async fn someone_else_cannot_use_the_code_page() {
    let app = app().await;
    let (mut alice, _) = signed_in(&app, "alice").await;
    let verify = add_address(&mut alice, "alice@example.com")
        .await
        .location_path();
    let (mut bob, _) = signed_in(&app, "bob").await;

    let page = bob.get(&verify).await;

    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_address_is_removed_after_a_recent_sign_in_and_the_homeserver_told() {
    let app = app().await;
    let (mut browser, user) = signed_in(&app, "alice").await;
    add_email(&app, &user, "alice@example.com").await;
    add_email(&app, &user, "second@example.com").await;
    let id = email_id(&app, &user, "alice@example.com").await;

    let profile = browser.get("/account/").await;
    assert!(
        profile
            .body
            .contains(&format!("/account/emails/{id}/remove"))
    );
    assert!(!profile.body.contains(r#"name="password""#));

    let done = remove(&mut browser, &id, "").await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/account/?done=email_removed");
    assert_eq!(emails_of(&app, &user).await, ["second@example.com"]);
    run_jobs(&app).await;
    assert_eq!(
        app.homeserver.user("alice").expect("provisioned").emails,
        ["second@example.com"]
    );
}

#[tokio::test]
async fn removing_after_five_minutes_needs_the_password() {
    let app = app().await;
    let (mut browser, user) = signed_in(&app, "alice").await;
    add_email(&app, &user, "alice@example.com").await;
    let id = email_id(&app, &user, "alice@example.com").await;
    advance_minutes(&app, 10);

    let profile = browser.get("/account/").await;
    assert!(profile.body.contains(r#"name="password""#));

    let without = remove(&mut browser, &id, "").await;
    assert_eq!(without.status, StatusCode::UNAUTHORIZED);
    assert!(without.body.contains("Enter your password"));
    let wrong = remove(&mut browser, &id, "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong password."));
    assert_eq!(emails_of(&app, &user).await, ["alice@example.com"]);

    let right = remove(&mut browser, &id, PASSWORD).await;
    assert_eq!(right.status, StatusCode::SEE_OTHER, "{}", right.body);
    assert!(emails_of(&app, &user).await.is_empty());
    run_jobs(&app).await;
    assert!(
        app.homeserver
            .user("alice")
            .expect("provisioned")
            .emails
            .is_empty()
    );
}

#[tokio::test]
async fn someone_elses_address_cannot_be_removed() {
    let app = app().await;
    let bob = crate::common::add_user_with_password(&app, "bob", PASSWORD, false).await;
    add_email(&app, &bob, "bob@example.com").await;
    let id = email_id(&app, &bob, "bob@example.com").await;
    let (mut browser, _) = signed_in(&app, "alice").await;

    let refused = remove(&mut browser, &id, "").await;

    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(emails_of(&app, &bob).await, ["bob@example.com"]);
}

#[tokio::test]
async fn the_forms_need_the_csrf_token() {
    let app = app().await;
    let (mut browser, user) = signed_in(&app, "alice").await;
    add_email(&app, &user, "alice@example.com").await;
    let id = email_id(&app, &user, "alice@example.com").await;

    let added = browser
        .post(
            "/account/emails",
            &[("csrf", "forged"), ("email", "new@example.com")],
        )
        .await;
    let removed = browser
        .post(
            &format!("/account/emails/{id}/remove"),
            &[("csrf", "forged")],
        )
        .await;

    assert_eq!(added.status, StatusCode::FORBIDDEN);
    assert_eq!(removed.status, StatusCode::FORBIDDEN);
    run_jobs(&app).await;
    assert!(app.mailer.sent().is_empty());
    assert_eq!(emails_of(&app, &user).await, ["alice@example.com"]);
}

#[tokio::test]
async fn when_switched_off_the_forms_are_hidden_and_requests_refused() {
    let app = app_with(|config| config.account.email_change_allowed = false).await;
    let (mut browser, user) = signed_in(&app, "alice").await;
    add_email(&app, &user, "alice@example.com").await;
    let id = email_id(&app, &user, "alice@example.com").await;

    let profile = browser.get("/account/").await;
    assert!(profile.body.contains("alice@example.com"));
    assert!(!profile.body.contains(r#"/account/emails""#));
    assert!(!profile.body.contains("/remove"));

    let added = add_address(&mut browser, "new@example.com").await;
    let removed = remove(&mut browser, &id, "").await;
    let verify = browser
        .get("/account/emails/verify/01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .await;

    assert_eq!(added.status, StatusCode::FORBIDDEN);
    assert!(added.body.contains("Email address changes are disabled"));
    assert_eq!(removed.status, StatusCode::FORBIDDEN);
    assert_eq!(verify.status, StatusCode::FORBIDDEN);
    run_jobs(&app).await;
    assert!(app.mailer.sent().is_empty());
    assert_eq!(emails_of(&app, &user).await, ["alice@example.com"]);
}

#[tokio::test]
async fn without_a_session_the_forms_send_to_the_login_page() {
    let app = app().await;
    let mut browser = Browser::new(&app);

    let page = browser
        .post("/account/emails", &[("email", "x@example.com")])
        .await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location_path().starts_with("/login"));
}
