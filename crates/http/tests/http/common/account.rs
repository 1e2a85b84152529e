//! What the tests of the account pages share: a user signed in through the login form, in a
//! browser that keeps the session cookie.

use axum::http::StatusCode;
use portcullis_homeserver::{HomeserverConnection as _, ProvisionRequest};
use portcullis_model::User;

use super::{
    TestApp, add_user_with_password,
    browser::{Browser, Page},
};

/// The password of the users made here.
pub const PASSWORD: &str = "correct horse battery staple";

/// Signs `username` in with `password` through `/login` (with `query`, if any), expecting the
/// redirect that follows a sign-in; returns it.
pub async fn log_in(
    browser: &mut Browser<'_>,
    query: &str,
    username: &str,
    password: &str,
) -> Page {
    let uri = format!("/login{query}");
    let form = browser.get(&uri).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.field("csrf").expect("the login form has a csrf field");
    browser
        .post(
            &uri,
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
}

/// Creates `username` with [`PASSWORD`], known to the homeserver too, and signs them in in a
/// new browser.
pub async fn signed_in<'a>(app: &'a TestApp, username: &str) -> (Browser<'a>, User) {
    let user = add_user_with_password(app, username, PASSWORD, false).await;
    app.homeserver
        .provision_user(&ProvisionRequest::new(username))
        .await
        .expect("the user exists on the homeserver");
    let mut browser = Browser::new(app);
    let done = log_in(&mut browser, "", username, PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    (browser, user)
}

/// The CSRF token of the page at `uri`, after checking that it answered 200.
pub async fn csrf_of(browser: &mut Browser<'_>, uri: &str) -> String {
    let page = browser.get(uri).await;
    assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
    page.field("csrf").expect("the page has a csrf field")
}

/// Whether `page` carries the protective headers of every page.
pub fn is_protected(page: &Page) -> bool {
    page.headers
        .get("x-frame-options")
        .is_some_and(|value| value == "DENY")
        && page
            .headers
            .get("content-security-policy")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("frame-ancestors 'none'"))
}
