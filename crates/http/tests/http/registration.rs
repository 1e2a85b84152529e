//! Password registration as a browser goes through it: /register, /register/password, the
//! continuation of the flow that led there, and every way it must refuse.

use std::num::NonZeroU32;

use crate::common::{
    TestApp, app, app_with,
    browser::{Browser, Page},
    compat::run_jobs,
};
use axum::http::{StatusCode, header};
use portcullis_config::sections::rate_limiting::RateLimiterConfig;
use portcullis_homeserver::{HomeserverConnection as _, ProvisionRequest};
use portcullis_model::{JobStatus, OAuthClient, User};

mod captcha;

const PASSWORD: &str = "correct horse battery staple";
const REDIRECT: &str = "https://app.example.com/callback";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// An application where anyone may register with a password and no email address, and the
/// rate limit is out of the way unless a test sets its own.
async fn open_app_with(adjust: impl FnOnce(&mut portcullis_config::Config)) -> TestApp {
    app_with(|config| {
        open_registration(config);
        adjust(config);
    })
    .await
}

/// Registration with a password and no email address, without a rate limit in the way.
fn open_registration(config: &mut portcullis_config::Config) {
    config.account.password_registration_enabled = true;
    config.account.password_registration_email_required = false;
    config.rate_limiting.registration = RateLimiterConfig {
        burst: NonZeroU32::new(1000).expect("not zero"),
        per_second: 1.0,
    };
}

async fn open_app() -> TestApp {
    open_app_with(|_| {}).await
}

/// The fields of a good registration of `bob`, with `changes` applied (an empty value removes
/// the field).
fn fields<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("username", "bob"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("display_name", "Bob Builder"),
    ];
    for (name, value) in changes {
        fields.retain(|(field, _)| field != name);
        if !value.is_empty() {
            fields.push((name, value));
        }
    }
    fields
}

/// Loads the form at `path` and posts `fields` with its CSRF token.
async fn register(browser: &mut Browser<'_>, path: &str, fields: &[(&str, &str)]) -> Page {
    let form = browser.get(path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.field("csrf").expect("a csrf field");
    let mut pairs = vec![("csrf", csrf.as_str())];
    pairs.extend_from_slice(fields);
    browser.post(path, &pairs).await
}

async fn find_user(app: &TestApp, username: &str) -> Option<User> {
    let mut repo = app.database.transaction().await.expect("tx");
    let user = repo
        .users()
        .find_by_username(username)
        .await
        .expect("looked up");
    repo.rollback().await.expect("rollback");
    user
}

async fn user_count(app: &TestApp) -> usize {
    let mut repo = app.database.transaction().await.expect("tx");
    let users = repo.users().list(100).await.expect("listed");
    repo.rollback().await.expect("rollback");
    users.len()
}

async fn add_token(app: &TestApp, token: &str, usage_limit: Option<u32>) {
    let mut repo = app.database.transaction().await.expect("tx");
    repo.registration_tokens()
        .add(token, usage_limit, None, app.state.now())
        .await
        .expect("token added");
    repo.commit().await.expect("commit");
}

async fn times_used(app: &TestApp, token: &str) -> u32 {
    let mut repo = app.database.transaction().await.expect("tx");
    let found = repo
        .registration_tokens()
        .find_by_token(token)
        .await
        .expect("looked up")
        .expect("the token exists");
    repo.rollback().await.expect("rollback");
    found.times_used
}

async fn add_client(app: &TestApp) -> OAuthClient {
    let client = OAuthClient {
        id: ulid::Ulid::new(),
        client_id: "public-app".to_owned(),
        is_static: true,
        client_auth_method: "none".parse().expect("valid"),
        redirect_uris: vec![REDIRECT.parse().expect("valid")],
        client_name: Some("Test App".to_owned()),
        grant_types: vec![
            "authorization_code".parse().expect("valid"),
            "refresh_token".parse().expect("valid"),
        ],
        created_at: app.state.now(),
        ..OAuthClient::default()
    };
    crate::common::oauth::store_client(app, &client).await
}

fn authorize_uri(extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id=public-app&redirect_uri={}&scope=openid%20urn%3Amatrix%3Aclient%3Aapi%3A*&state=xyz&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    )
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let url: url::Url = location.parse().expect("an absolute redirect");
    url.query_pairs().into_owned().collect()
}

/// Asserts that `page` is the form again with `status` and `message`, that nothing was
/// created, and that the password was not sent back.
async fn assert_refused(app: &TestApp, page: &Page, status: StatusCode, message: &str) {
    assert_eq!(page.status, status, "{}", page.body);
    assert!(
        page.body.contains(message),
        "{message:?} is not in {}",
        page.body
    );
    assert!(
        page.body.contains(r#"<form method="post""#),
        "the form again"
    );
    assert!(
        !page.body.contains(PASSWORD),
        "passwords are never sent back"
    );
    assert_eq!(user_count(app).await, 0, "no account was created");
}

// --- closed ----------------------------------------------------------------------------------

#[tokio::test]
async fn registration_is_refused_with_a_page_when_it_is_closed() {
    let app = app().await;
    let mut browser = Browser::new(&app);

    for path in ["/register", "/register/password"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.body.contains("Registration is closed"), "{path}");
    }
    let posted = browser
        .post("/register/password", &fields(&[("csrf", "x")]))
        .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
    assert_eq!(user_count(&app).await, 0);

    let login = browser.get("/login").await;
    assert!(!login.body.contains("Create an account"));
}

/// The code in the newest verification email sent to `to`, after running the queued jobs.
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
    assert!(email.email.text.contains(&code));
    code
}

/// An application requiring an email address at registration (MAS's default).
async fn email_app() -> TestApp {
    open_app_with(|config| config.account.password_registration_email_required = true).await
}

/// Fills the form with `bob@example.com` and follows to the code form; returns its path.
async fn register_with_email(browser: &mut Browser<'_>, path: &str) -> String {
    let posted = register(browser, path, &fields(&[("email", "bob@example.com")])).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let verify = posted.location_path();
    assert!(
        verify.starts_with("/register/steps/") && verify.ends_with("/verify-email"),
        "{verify}"
    );
    verify
}

async fn submit_code(browser: &mut Browser<'_>, verify: &str, code: &str) -> Page {
    let form = browser.get(verify).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.field("csrf").expect("a csrf field");
    browser
        .post(verify, &[("csrf", csrf.as_str()), ("code", code)])
        .await
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

#[tokio::test]
async fn registration_requiring_an_email_address_verifies_it_with_a_code() {
    let app = email_app().await;
    let mut browser = Browser::new(&app);

    let form = browser.get("/register/password").await;
    assert_eq!(form.status, StatusCode::OK);
    let missing = register(&mut browser, "/register/password", &fields(&[])).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("Enter your email address"));

    let verify = register_with_email(&mut browser, "/register/password").await;
    assert!(
        find_user(&app, "bob").await.is_none(),
        "not before the code"
    );
    let page = browser.get(&verify).await;
    assert!(page.body.contains("bob@example.com"));
    assert!(page.body.contains(r#"<label for="code">Code</label>"#));
    let code = code_sent_to(&app, "bob@example.com").await;

    let done = submit_code(&mut browser, &verify, &code).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("https://auth.example.com/"));
    let user = find_user(&app, "bob").await.expect("bob exists");
    assert_eq!(emails_of(&app, &user).await, vec!["bob@example.com"]);
    let account = browser.get("/account/").await;
    assert_eq!(account.status, StatusCode::OK, "signed in");

    // Provisioned with the display name and the verified address.
    let statuses = run_jobs(&app).await;
    assert!(
        statuses
            .iter()
            .all(|status| *status == JobStatus::Completed)
    );
    let provisioned = app.homeserver.user("bob").expect("provisioned");
    assert_eq!(provisioned.display_name.as_deref(), Some("Bob Builder"));
    assert_eq!(provisioned.emails, vec!["bob@example.com"]);

    // The code is single use: the registration is finished.
    let again = browser.get(&verify).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_optional_email_address_is_verified_too() {
    let app = open_app().await;
    let mut browser = Browser::new(&app);
    let verify = register_with_email(&mut browser, "/register/password").await;
    let code = code_sent_to(&app, "bob@example.com").await;
    let done = submit_code(&mut browser, &verify, &code).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let user = find_user(&app, "bob").await.expect("bob exists");
    assert_eq!(emails_of(&app, &user).await, vec!["bob@example.com"]);
}

#[tokio::test]
async fn a_wrong_code_shows_the_form_again_and_attempts_are_limited() {
    let app = email_app().await;
    let mut browser = Browser::new(&app);
    let verify = register_with_email(&mut browser, "/register/password").await;
    let code = code_sent_to(&app, "bob@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };

    let page = submit_code(&mut browser, &verify, wrong).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("This code is not right."));
    assert!(find_user(&app, "bob").await.is_none());

    for _ in 0..4 {
        submit_code(&mut browser, &verify, wrong).await;
    }
    let over = submit_code(&mut browser, &verify, &code).await;
    assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS, "{}", over.body);
    assert!(find_user(&app, "bob").await.is_none());

    // A new code starts over.
    let form = browser.get(&verify).await;
    let csrf = form.field("csrf").expect("csrf");
    let resend = verify.replace("/verify-email", "/resend");
    let resent = browser.post(&resend, &[("csrf", csrf.as_str())]).await;
    assert_eq!(resent.status, StatusCode::OK, "{}", resent.body);
    assert!(resent.body.contains("A new code was sent"));
    let new_code = code_sent_to(&app, "bob@example.com").await;
    let done = submit_code(&mut browser, &verify, &new_code).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(find_user(&app, "bob").await.is_some());
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = email_app().await;
    let mut browser = Browser::new(&app);
    let verify = register_with_email(&mut browser, "/register/password").await;
    let code = code_sent_to(&app, "bob@example.com").await;
    app.clock.advance(chrono::TimeDelta::minutes(5));

    let page = submit_code(&mut browser, &verify, &code).await;
    assert_eq!(page.status, StatusCode::GONE, "{}", page.body);
    assert!(page.body.contains("This code has expired."));
    assert!(page.body.contains("Start again"));
    assert!(find_user(&app, "bob").await.is_none());
}

/// Asks `times` times for a new code on the code page at `verify`; the statuses of the answers.
async fn resend_codes(browser: &mut Browser<'_>, verify: &str, times: usize) -> Vec<StatusCode> {
    let resend = verify.replace("/verify-email", "/resend");
    let mut statuses = Vec::new();
    for _ in 0..times {
        let form = browser.get(verify).await;
        let csrf = form.field("csrf").expect("csrf");
        statuses.push(
            browser
                .post(&resend, &[("csrf", csrf.as_str())])
                .await
                .status,
        );
    }
    statuses
}

#[tokio::test]
async fn resending_codes_is_rate_limited() {
    let app = email_app().await;
    let mut browser = Browser::new(&app);
    let verify = register_with_email(&mut browser, "/register/password").await;
    let statuses = resend_codes(&mut browser, &verify, 3).await;
    assert_eq!(statuses[0], StatusCode::OK);
    assert_eq!(statuses[2], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
}

#[tokio::test]
async fn the_first_code_counts_against_the_registrations_own_limit() {
    // emails_per_session: 2 by default, the first code included: one resend, then a wait.
    let app = email_app().await;
    let mut browser = Browser::new(&app);
    let verify = register_with_email(&mut browser, "/register/password").await;
    let statuses = resend_codes(&mut browser, &verify, 2).await;
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::TOO_MANY_REQUESTS],
        "the address's own limit (3) is not what stopped it"
    );
}

#[tokio::test]
async fn an_email_address_already_used_or_malformed_is_refused() {
    let app = email_app().await;
    let mut repo = app.database.transaction().await.expect("tx");
    let alice = repo
        .users()
        .add("alice", app.state.now())
        .await
        .expect("alice");
    repo.user_emails()
        .add(&alice, "Bob@Example.com", app.state.now())
        .await
        .expect("email");
    repo.commit().await.expect("commit");
    let mut browser = Browser::new(&app);

    let used = register(
        &mut browser,
        "/register/password",
        &fields(&[("email", "bob@example.com")]),
    )
    .await;
    assert_eq!(used.status, StatusCode::CONFLICT);
    assert!(used.body.contains("already used by another account"));

    let malformed = register(
        &mut browser,
        "/register/password",
        &fields(&[("email", "not an address")]),
    )
    .await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(malformed.body.contains("This email address is not valid"));
    run_jobs(&app).await;
    assert!(app.mailer.sent().is_empty());
}

// --- the happy path --------------------------------------------------------------------------

#[tokio::test]
async fn a_new_user_registers_is_signed_in_and_provisioned_with_their_display_name() {
    let app = open_app().await;
    let mut browser = Browser::new(&app);

    let start = browser.get("/register").await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    assert_eq!(start.location_path(), "/register/password");
    let form = browser.get("/register/password").await;
    assert!(form.body.contains(r#"name="password_confirm""#));
    assert!(form.body.contains(r#"name="email""#), "email may be given");
    assert!(!form.body.contains(r#"name="token""#), "no token needed");
    assert!(
        form.body
            .contains(r#"href="https://auth.example.com/login">Sign in</a>"#)
    );

    let done = register(&mut browser, "/register/password", &fields(&[])).await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("https://auth.example.com/"));
    let user = find_user(&app, "bob").await.expect("bob exists");
    let mut repo = app.database.transaction().await.expect("tx");
    let password = repo
        .user_passwords()
        .active(&user)
        .await
        .expect("read")
        .expect("a password");
    repo.rollback().await.expect("rollback");
    assert!(password.hashed_password.starts_with("$argon2id$"));
    assert!(!password.hashed_password.contains(PASSWORD));

    let home = browser.get("/").await;
    assert!(
        home.body
            .contains("You are signed in as <strong>bob</strong>"),
        "{}",
        home.body
    );

    assert_eq!(app.homeserver.user("bob"), None, "provisioned by the queue");
    let statuses = run_jobs(&app).await;
    assert!(statuses.contains(&JobStatus::Completed), "{statuses:?}");
    let provisioned = app.homeserver.user("bob").expect("provisioned");
    assert_eq!(provisioned.display_name.as_deref(), Some("Bob Builder"));

    // The password works on the login page too.
    let mut other = Browser::new(&app);
    let login = other.get("/login").await;
    let csrf = login.field("csrf").expect("csrf");
    let signed_in = other
        .post(
            "/login",
            &[("csrf", &csrf), ("username", "bob"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
}

#[tokio::test]
async fn a_full_matrix_id_of_this_server_names_the_username() {
    let app = open_app().await;
    let mut browser = Browser::new(&app);

    let done = register(
        &mut browser,
        "/register/password",
        &fields(&[("username", "@bob:example.com"), ("display_name", "")]),
    )
    .await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(find_user(&app, "bob").await.is_some());
    run_jobs(&app).await;
    let provisioned = app.homeserver.user("bob").expect("provisioned");
    assert_eq!(provisioned.display_name, None, "none was given");
}

// --- continuing a flow -----------------------------------------------------------------------

#[tokio::test]
async fn prompt_create_leads_to_registration_and_on_to_the_consent_page_of_the_grant() {
    let app = open_app().await;
    add_client(&app).await;
    let mut browser = Browser::new(&app);

    let start = browser.get(&authorize_uri("&prompt=create")).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
    let register_path = start.location_path();
    assert!(register_path.starts_with("/register?"), "{register_path}");
    let grant_id = query_of(start.location.as_deref().expect("redirect"))
        .get("id")
        .cloned()
        .expect("the grant id");
    let form_redirect = browser.get(&register_path).await;
    assert_eq!(form_redirect.status, StatusCode::SEE_OTHER);
    let form_path = form_redirect.location_path();
    assert!(
        form_path.starts_with("/register/password?kind=continue_authorization_grant"),
        "{form_path}"
    );
    let form = browser.get(&form_path).await;
    assert!(
        form.body
            .contains("/login?kind=continue_authorization_grant&amp;id="),
        "signing in instead keeps the flow: {}",
        form.body
    );

    let done = register(&mut browser, &form_path, &fields(&[])).await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("https://auth.example.com/consent/{grant_id}").as_str())
    );
    let consent = browser.get(&done.location_path()).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    assert!(consent.body.contains("Test App"));
    assert!(consent.body.contains("bob"));
    let csrf = consent.field("csrf").expect("csrf");
    let allowed = browser
        .post(
            &done.location_path(),
            &[("csrf", &csrf), ("action", "allow")],
        )
        .await;
    let location = allowed.location.expect("back to the client");
    assert!(location.starts_with(REDIRECT), "{location}");
    assert!(query_of(&location).contains_key("code"));
}

#[tokio::test]
async fn prompt_create_leads_to_registration_even_when_signed_in() {
    let app = open_app().await;
    add_client(&app).await;
    crate::common::add_user_with_password(&app, "alice", PASSWORD, false).await;
    let mut browser = Browser::new(&app);
    let login = browser.get("/login").await;
    let csrf = login.field("csrf").expect("csrf");
    browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;

    let start = browser
        .get(&authorize_uri(
            "&prompt=create&login_hint=mxid%3A%40carol%3Aexample.com",
        ))
        .await;

    let path = start.location_path();
    assert!(path.starts_with("/register?"), "{path}");
    let form_path = browser_follow(&mut browser, &path).await;
    let form = browser.get(&form_path).await;
    assert!(
        form.body.contains(r#"name="username" value="carol""#),
        "the login hint fills in the username"
    );
}

/// Follows one redirect from `path` and returns where it leads.
async fn browser_follow(browser: &mut Browser<'_>, path: &str) -> String {
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    page.location_path()
}

#[tokio::test]
async fn prompt_create_is_a_sign_in_when_registration_is_closed() {
    let app = app().await;
    add_client(&app).await;
    let mut browser = Browser::new(&app);

    let start = browser.get(&authorize_uri("&prompt=create")).await;

    assert_eq!(start.status, StatusCode::SEE_OTHER);
    assert!(
        start
            .location_path()
            .starts_with("/login?kind=continue_authorization_grant"),
        "{:?}",
        start.location
    );
}

#[tokio::test]
async fn prompt_create_with_prompt_none_is_an_invalid_request() {
    let app = open_app().await;
    add_client(&app).await;
    let mut browser = Browser::new(&app);

    let page = browser.get(&authorize_uri("&prompt=none%20create")).await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let params = query_of(page.location.as_deref().expect("to the client"));
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn the_login_page_offers_registration_with_the_flow_when_it_is_open() {
    let app = open_app().await;
    let mut browser = Browser::new(&app);
    let id = ulid::Ulid::new();

    let login = browser
        .get(&format!("/login?kind=continue_authorization_grant&id={id}"))
        .await;

    assert!(
        login.body.contains(&format!(
            r#"<a href="https://auth.example.com/register?kind=continue_authorization_grant&amp;id={id}">Create an account</a>"#
        )),
        "{}",
        login.body
    );
}

#[tokio::test]
async fn discovery_offers_prompt_create_only_when_registration_is_open() {
    for (app, open) in [(app().await, false), (open_app().await, true)] {
        let response = app
            .send(
                axum::http::Request::get("/.well-known/openid-configuration")
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await;
        let document = crate::common::body_json(response).await;
        let prompts = document["prompt_values_supported"]
            .as_array()
            .expect("a list")
            .clone();
        assert_eq!(prompts.contains(&"create".into()), open, "{prompts:?}");
    }
}

/// Fields to change, the status expected, and a message expected on the page.
type Case<'a> = (&'a [(&'a str, &'a str)], StatusCode, &'a str);

// --- validation ------------------------------------------------------------------------------

#[tokio::test]
async fn each_invalid_form_is_shown_again_with_its_message_and_creates_nobody() {
    let app = open_app().await;
    let mut browser = Browser::new(&app);
    let cases: [Case<'_>; 9] = [
        (
            &[("username", "Bob")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Did you mean “bob”?",
        ),
        (
            &[("username", "")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "The username is empty.",
        ),
        (
            &[("username", "bob smith")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "contains a space",
        ),
        (
            &[("username", "12345")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "digits only",
        ),
        (
            &[("username", "@bob:elsewhere.example")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "belongs to the server",
        ),
        (
            &[("password_confirm", "correct horse battery stapler")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "The two passwords do not match.",
        ),
        (
            &[("password", "password1"), ("password_confirm", "password1")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "This password is too easy to guess.",
        ),
        (
            &[("display_name", "Bob\nBuilder")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "control characters",
        ),
        (
            &[("email", "bob@@example.com")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "This email address is not valid",
        ),
    ];

    for (changes, status, message) in cases {
        let page = register(&mut browser, "/register/password", &fields(changes)).await;
        assert_refused(&app, &page, status, message).await;
    }
}

/// The rules of other parts of the service (usernames, password strength, addresses) are
/// explained in the visitor's language too, not only the messages written for the pages.
#[tokio::test]
async fn the_username_password_and_address_rules_are_explained_in_french() {
    let app = open_app().await;
    let mut browser = Browser::new(&app);
    browser.set_language("fr");
    let cases: [Case<'_>; 5] = [
        (
            &[("username", "Bob")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Le nom d’utilisateur « Bob » contient « B »",
        ),
        (
            &[("username", "12345")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "ne compte que des chiffres",
        ),
        (
            &[("username", "@bob:elsewhere.example")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "appartient au serveur elsewhere.example",
        ),
        (
            &[("password", "password1"), ("password_confirm", "password1")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Ce mot de passe est trop facile à deviner. C’est un mot de passe très courant.",
        ),
        (
            &[("email", "bob@@example.com")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Cette adresse e-mail n’est pas valide : la partie avant le @ n’est pas valide.",
        ),
    ];

    for (changes, status, message) in cases {
        let page = register(&mut browser, "/register/password", &fields(changes)).await;
        assert_refused(&app, &page, status, message).await;
        assert!(!page.body.contains("username."), "a raw key: {}", page.body);
    }
}

#[tokio::test]
async fn a_refused_form_keeps_what_was_typed_except_the_passwords() {
    let app = open_app().await;
    let mut browser = Browser::new(&app);

    let page = register(
        &mut browser,
        "/register/password",
        &fields(&[("password_confirm", "something else entirely")]),
    )
    .await;

    assert_refused(
        &app,
        &page,
        StatusCode::UNPROCESSABLE_ENTITY,
        "do not match",
    )
    .await;
    assert!(page.body.contains(r#"name="username" value="bob""#));
    assert!(
        page.body
            .contains(r#"name="display_name" value="Bob Builder""#)
    );
    assert!(page.body.contains(r#"id="password-confirm-error""#));
    assert!(!page.body.contains("something else entirely"));
}

#[tokio::test]
async fn a_password_made_of_the_username_is_too_weak() {
    let app = open_app().await;
    let mut browser = Browser::new(&app);

    let page = register(
        &mut browser,
        "/register/password",
        &fields(&[
            ("username", "zanzibarquokka"),
            ("password", "zanzibarquokka"),
            ("password_confirm", "zanzibarquokka"),
        ]),
    )
    .await;

    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(page.body.contains("too easy to guess"));
    assert_eq!(user_count(&app).await, 0);
}

#[tokio::test]
async fn a_username_taken_here_is_refused() {
    let app = open_app().await;
    crate::common::add_user_with_password(&app, "bob", "another long passphrase", false).await;
    let mut browser = Browser::new(&app);

    let page = register(&mut browser, "/register/password", &fields(&[])).await;

    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
    assert!(page.body.contains("This username is already taken."));
    assert!(page.body.contains(r#"id="username-error""#));
    assert_eq!(user_count(&app).await, 1, "only the first bob");
}

#[tokio::test]
async fn a_username_taken_on_the_homeserver_is_refused() {
    let app = open_app().await;
    app.homeserver
        .provision_user(&ProvisionRequest::new("bob"))
        .await
        .expect("provisioned");
    let mut browser = Browser::new(&app);

    let page = register(&mut browser, "/register/password", &fields(&[])).await;

    assert_refused(
        &app,
        &page,
        StatusCode::CONFLICT,
        "This username is already taken.",
    )
    .await;
}

#[tokio::test]
async fn an_unreachable_homeserver_creates_nobody_and_asks_to_retry() {
    let app = open_app().await;
    app.homeserver.set_down(true);
    let mut browser = Browser::new(&app);

    let page = register(&mut browser, "/register/password", &fields(&[])).await;

    assert_refused(
        &app,
        &page,
        StatusCode::SERVICE_UNAVAILABLE,
        "The homeserver could not be reached",
    )
    .await;
    assert!(page.headers.contains_key(header::RETRY_AFTER));

    app.homeserver.set_down(false);
    let again = register(&mut browser, "/register/password", &fields(&[])).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert!(find_user(&app, "bob").await.is_some());
}

// --- registration tokens ---------------------------------------------------------------------

fn with_tokens(config: &mut portcullis_config::Config) {
    config.account.password_registration_token_required = true;
}

#[tokio::test]
async fn a_required_token_must_be_given_and_valid() {
    let app = open_app_with(with_tokens).await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/register/password").await;
    assert!(
        form.body
            .contains(r#"<label for="token">Registration token</label>"#)
    );

    let missing = register(&mut browser, "/register/password", &fields(&[])).await;
    assert_refused(
        &app,
        &missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Enter the registration token",
    )
    .await;

    let unknown = register(
        &mut browser,
        "/register/password",
        &fields(&[("token", "no-such-token")]),
    )
    .await;
    assert_refused(
        &app,
        &unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "This registration token is not valid",
    )
    .await;
    assert!(
        unknown.body.contains(r#"value="no-such-token""#),
        "kept to correct"
    );
}

#[tokio::test]
async fn a_token_is_used_once_per_registration_and_refused_when_used_up() {
    let app = open_app_with(with_tokens).await;
    add_token(&app, "one-use-token", Some(1)).await;
    let mut browser = Browser::new(&app);

    let first = register(
        &mut browser,
        "/register/password",
        &fields(&[("token", "one-use-token")]),
    )
    .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert_eq!(times_used(&app, "one-use-token").await, 1);

    let mut other = Browser::new(&app);
    let second = register(
        &mut other,
        "/register/password",
        &fields(&[("username", "carol"), ("token", "one-use-token")]),
    )
    .await;
    assert_eq!(
        second.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        second.body
    );
    assert!(second.body.contains("has been used up"));
    assert!(find_user(&app, "carol").await.is_none());
    assert_eq!(times_used(&app, "one-use-token").await, 1);
}

#[tokio::test]
async fn a_taken_username_does_not_use_up_the_token() {
    let app = open_app_with(with_tokens).await;
    add_token(&app, "one-use-token", Some(1)).await;
    crate::common::add_user_with_password(&app, "bob", "another long passphrase", false).await;
    let mut browser = Browser::new(&app);

    let page = register(
        &mut browser,
        "/register/password",
        &fields(&[("token", "one-use-token")]),
    )
    .await;

    assert_eq!(page.status, StatusCode::CONFLICT);
    assert_eq!(times_used(&app, "one-use-token").await, 0);
}

// --- terms of service ------------------------------------------------------------------------

#[tokio::test]
async fn the_terms_of_service_must_be_accepted_when_the_site_has_them() {
    let app = open_app_with(|config| {
        config.branding.tos_uri = Some("https://example.com/terms".parse().expect("valid"));
    })
    .await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/register/password").await;
    assert!(form.body.contains(r#"name="accept_terms""#));
    assert!(form.body.contains(r#"<a href="https://example.com/terms""#));

    let refused = register(&mut browser, "/register/password", &fields(&[])).await;
    assert_refused(
        &app,
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Accept the terms of service",
    )
    .await;

    let accepted = register(
        &mut browser,
        "/register/password",
        &fields(&[("accept_terms", "yes")]),
    )
    .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);

    // The acceptance is recorded, with the terms' address.
    let mut repo = app.database.transaction().await.expect("tx");
    let user = repo
        .users()
        .find_by_username("bob")
        .await
        .expect("lookup")
        .expect("the user exists");
    let accepted_terms = repo
        .user_terms()
        .list_for_user(&user)
        .await
        .expect("listed");
    repo.rollback().await.expect("rollback");
    let urls: Vec<&str> = accepted_terms.iter().map(|(url, _)| url.as_str()).collect();
    assert_eq!(urls, vec!["https://example.com/terms"]);
}

// --- abuse -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused() {
    let app = open_app().await;
    let mut browser = Browser::new(&app);
    browser.get("/register/password").await;

    let missing = browser.post("/register/password", &fields(&[])).await;
    assert_refused(
        &app,
        &missing,
        StatusCode::FORBIDDEN,
        "could not be checked",
    )
    .await;

    let forged = browser
        .post("/register/password", &fields(&[("csrf", "forged")]))
        .await;
    assert_refused(&app, &forged, StatusCode::FORBIDDEN, "could not be checked").await;
}

#[tokio::test]
async fn too_many_registrations_from_one_address_are_refused_for_a_while() {
    let app = app_with(|config| {
        config.account.password_registration_enabled = true;
        config.account.password_registration_email_required = false;
        config.rate_limiting.registration = RateLimiterConfig {
            burst: NonZeroU32::new(2).expect("not zero"),
            per_second: 1.0 / 3600.0,
        };
    })
    .await;
    let mut browser = Browser::new(&app);

    // Mistakes in the form itself cost nothing.
    for _ in 0..3 {
        let typo = register(
            &mut browser,
            "/register/password",
            &fields(&[("password_confirm", "typo")]),
        )
        .await;
        assert_eq!(typo.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let bob = register(&mut browser, "/register/password", &fields(&[])).await;
    assert_eq!(bob.status, StatusCode::SEE_OTHER, "{}", bob.body);
    let taken = register(&mut browser, "/register/password", &fields(&[])).await;
    assert_eq!(
        taken.status,
        StatusCode::CONFLICT,
        "looking up a name counts"
    );

    let limited = register(
        &mut browser,
        "/register/password",
        &fields(&[("username", "carol")]),
    )
    .await;

    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    assert!(limited.body.contains("Too many registration attempts"));
    let retry_after: u64 = limited
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After in seconds");
    assert!(retry_after > 60, "{retry_after}");
    assert!(find_user(&app, "carol").await.is_none());
}

#[tokio::test]
async fn a_new_user_of_a_server_requiring_a_second_factor_adds_one_before_any_session() {
    let app = open_app_with(|config| {
        config.account.second_factors.required =
            portcullis_config::SecondFactorRequirement::Everyone;
    })
    .await;
    let mut browser = Browser::new(&app);
    let done = register(&mut browser, "/register/password", &fields(&[])).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location_path(), "/login/second-factor");
    assert!(find_user(&app, "bob").await.is_some(), "the account exists");
    // Not signed in yet: the account pages send to the sign-in page.
    let account = browser.get("/account/").await;
    assert_eq!(account.status, StatusCode::SEE_OTHER, "{}", account.body);
    // The second step shows an authenticator app to add; its first code signs in.
    let page = browser.get("/login/second-factor").await;
    assert!(
        page.body.contains("Add an authenticator app"),
        "{}",
        page.body
    );
    let secret = crate::second_factors::shown_secret(&page);
    let csrf = page.field("csrf").expect("csrf");
    let code = crate::second_factors::code(&app, &secret, 0);
    let signed = browser
        .post("/login/second-factor", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    assert!(crate::second_factors::is_signed_in(&mut browser).await);
}
