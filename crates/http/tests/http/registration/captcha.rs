//! The CAPTCHA of password registration: the widget on the page, the one relaxed content
//! security policy, and the server-side check of the answer against a provider played by the
//! test, which must refuse every attempt it cannot vouch for.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Form, Json, Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode, header},
    response::IntoResponse as _,
    routing::post,
};
use portcullis_config::{CaptchaConfig, Secret, sections::captcha::CaptchaService};
use portcullis_http::pages::{CONTENT_SECURITY_POLICY, content_security_policy_allowing};
use portcullis_listener::{ConnectionInfo, LocalAddr};
use portcullis_services::captcha::provider;
use serde_json::json;

use super::{PASSWORD, assert_refused, fields, find_user, open_registration, register, user_count};
use crate::common::{
    TestApp, app_with_site, body_text,
    browser::{Browser, Page},
    post_form,
};

const SITE_KEY: &str = "the-site-key";
const SECRET_KEY: &str = "the-secret-key";
/// The answer the fake provider accepts; anything else is wrong.
const RIGHT_ANSWER: &str = "solved-by-a-human";
/// The host of `http.public_base` in the test configuration.
const OUR_HOST: &str = "auth.example.com";

const SERVICES: [CaptchaService; 3] = [
    CaptchaService::RecaptchaV2,
    CaptchaService::CloudflareTurnstile,
    CaptchaService::HCaptcha,
];

/// How the fake provider behaves.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Like the real one: "yes" to the right answer with our secret key, naming `hostname`;
    /// "no" to anything else.
    Honest { hostname: Option<&'static str> },
    /// Answers 200 with something that is not a verdict.
    Garbage,
    /// Answers HTTP 500.
    Broken,
    /// Never answers.
    Hangs,
}

/// A provider's `siteverify` played on a local port, which keeps every form it was sent.
struct FakeProvider {
    url: String,
    received: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

impl FakeProvider {
    async fn start(behaviour: Behaviour) -> Self {
        let received: Arc<Mutex<Vec<HashMap<String, String>>>> = Arc::default();
        let log = received.clone();
        let router = Router::new().route(
            "/siteverify",
            post(
                move |Form(form): Form<HashMap<String, String>>| async move {
                    let right = form.get("secret").map(String::as_str) == Some(SECRET_KEY)
                        && form.get("response").map(String::as_str) == Some(RIGHT_ANSWER);
                    log.lock().expect("log").push(form);
                    match behaviour {
                        Behaviour::Honest { hostname } if right => (
                            StatusCode::OK,
                            Json(json!({
                                "success": true,
                                "challenge_ts": "2026-11-23T12:00:00Z",
                                "hostname": hostname,
                            })),
                        )
                            .into_response(),
                        Behaviour::Honest { .. } => (
                            StatusCode::OK,
                            Json(json!({
                                "success": false,
                                "error-codes": ["invalid-input-response"],
                            })),
                        )
                            .into_response(),
                        Behaviour::Garbage => {
                            (StatusCode::OK, "<html>Maintenance</html>").into_response()
                        }
                        Behaviour::Broken => (
                            StatusCode::INTERNAL_SERVER_ERROR,
                            Json(json!({"success": true, "hostname": OUR_HOST})),
                        )
                            .into_response(),
                        Behaviour::Hangs => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            (StatusCode::OK, "too late").into_response()
                        }
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, router).await.expect("serves") });
        Self {
            url: format!("http://{address}/siteverify"),
            received,
        }
    }

    /// A provider nobody answers for: a port that was free a moment ago.
    async fn unreachable() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        drop(listener);
        Self {
            url: format!("http://{address}/siteverify"),
            received: Arc::default(),
        }
    }

    fn received(&self) -> Vec<HashMap<String, String>> {
        self.received.lock().expect("log").clone()
    }
}

/// Open registration protected by `service`, verified at `provider` within `timeout`.
async fn captcha_app_with_timeout(
    service: CaptchaService,
    provider: &FakeProvider,
    timeout: Duration,
) -> TestApp {
    let url = provider.url.clone();
    app_with_site(
        |config| {
            open_registration(config);
            config.captcha = CaptchaConfig {
                service: Some(service),
                site_key: Some(SITE_KEY.to_owned()),
                secret_key: Some(Secret::new(SECRET_KEY)),
            };
        },
        |site| {
            let captcha = site.captcha.take().expect("the CAPTCHA is configured");
            site.captcha = Some(captcha.with_verify_url(url).with_timeout(timeout));
        },
    )
    .await
}

async fn captcha_app(service: CaptchaService, provider: &FakeProvider) -> TestApp {
    captcha_app_with_timeout(service, provider, Duration::from_secs(10)).await
}

/// The good registration of `bob`, with `answer` in the field of `service`'s widget.
async fn register_answering(
    browser: &mut Browser<'_>,
    service: CaptchaService,
    answer: &str,
) -> Page {
    let field = provider(service).answer_field;
    register(browser, "/register/password", &fields(&[(field, answer)])).await
}

/// The register form posted with `fields` and the cookies the `form` page set, built by hand
/// to add what [`Browser`] cannot: a client address, a language.
fn post_register_form(form: &Page, fields: &[(&str, &str)]) -> Request<Body> {
    let csrf = form.field("csrf").expect("a csrf field");
    let cookies: Vec<&str> = form
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .collect();
    let mut pairs = vec![("csrf", csrf.as_str())];
    pairs.extend_from_slice(fields);
    let mut request = post_form("/register/password", &pairs);
    request.headers_mut().insert(
        header::COOKIE,
        cookies.join("; ").parse().expect("a cookie header"),
    );
    request
}

fn policy(page: &Page) -> &str {
    policy_of(&page.headers)
}

fn policy_of(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|value| value.to_str().ok())
        .expect("a content security policy")
}

// --- the page --------------------------------------------------------------------------------

#[tokio::test]
async fn without_captcha_the_register_page_has_no_widget_and_the_strict_policy() {
    let app = super::open_app().await;
    let mut browser = Browser::new(&app);

    let page = browser.get("/register/password").await;

    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("data-sitekey"), "{}", page.body);
    assert!(!page.body.contains("<script"), "{}", page.body);
    assert_eq!(policy(&page), CONTENT_SECURITY_POLICY);
}

#[tokio::test]
async fn each_service_shows_its_widget_and_script_on_the_register_page() {
    let fake = FakeProvider::start(Behaviour::Honest {
        hostname: Some(OUR_HOST),
    })
    .await;
    for (service, widget, script) in [
        (
            CaptchaService::RecaptchaV2,
            "g-recaptcha",
            "https://www.recaptcha.net/recaptcha/api.js",
        ),
        (
            CaptchaService::CloudflareTurnstile,
            "cf-turnstile",
            "https://challenges.cloudflare.com/turnstile/v0/api.js",
        ),
        (
            CaptchaService::HCaptcha,
            "h-captcha",
            "https://js.hcaptcha.com/1/api.js",
        ),
    ] {
        let app = captcha_app(service, &fake).await;
        let mut browser = Browser::new(&app);

        let page = browser.get("/register/password").await;

        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains(&format!(
                r#"<div class="{widget}" data-sitekey="{SITE_KEY}">"#
            )),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains(&format!(r#"<script src="{script}" async defer></script>"#)),
            "{}",
            page.body
        );
        assert!(
            !page.body.contains(SECRET_KEY),
            "the secret key stays secret"
        );
    }
}

#[tokio::test]
async fn only_the_register_page_allows_the_providers_hosts() {
    let fake = FakeProvider::start(Behaviour::Honest {
        hostname: Some(OUR_HOST),
    })
    .await;
    for service in SERVICES {
        let app = captcha_app(service, &fake).await;
        let mut browser = Browser::new(&app);
        let expected = content_security_policy_allowing(&provider(service).sources);

        let page = browser.get("/register/password").await;
        assert_eq!(policy(&page), expected, "{service:?}");
        for host in provider(service).sources.script {
            assert!(policy(&page).contains(host), "{service:?} needs {host}");
        }
        // The hosts of the other providers stay out.
        for other in SERVICES.into_iter().filter(|other| *other != service) {
            for host in provider(other).sources.script {
                if !provider(service).sources.script.contains(host) {
                    assert!(
                        !policy(&page).contains(host),
                        "{host} on {service:?}'s page"
                    );
                }
            }
        }
        // A refused form shows the widget again, under the same exception.
        let refused = register_answering(&mut browser, service, "wrong").await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert_eq!(policy(&refused), expected);

        for path in [
            "/login",
            "/",
            "/recover",
            "/register/steps/01ARZ3NDEKTSV4RRFFQ69G5FAV/verify-email",
        ] {
            let other = browser.get(path).await;
            assert_eq!(
                policy(&other),
                CONTENT_SECURITY_POLICY,
                "{path} of {service:?}"
            );
            assert!(!other.body.contains("data-sitekey"), "{path}");
        }
    }
}

// --- the check -------------------------------------------------------------------------------

#[tokio::test]
async fn a_right_answer_creates_the_account_after_the_provider_said_yes() {
    for service in SERVICES {
        let fake = FakeProvider::start(Behaviour::Honest {
            hostname: Some(OUR_HOST),
        })
        .await;
        let app = captcha_app(service, &fake).await;
        let mut browser = Browser::new(&app);

        let done = register_answering(&mut browser, service, RIGHT_ANSWER).await;

        assert_eq!(
            done.status,
            StatusCode::SEE_OTHER,
            "{service:?}: {}",
            done.body
        );
        assert!(find_user(&app, "bob").await.is_some(), "{service:?}");
        let received = fake.received();
        assert_eq!(received.len(), 1, "asked once");
        assert_eq!(
            received[0].get("secret").map(String::as_str),
            Some(SECRET_KEY)
        );
        assert_eq!(
            received[0].get("response").map(String::as_str),
            Some(RIGHT_ANSWER)
        );
        assert_eq!(
            received[0].get("remoteip"),
            None,
            "the client's address is unknown"
        );
    }
}

#[tokio::test]
async fn the_provider_is_told_the_clients_address_when_known() {
    let fake = FakeProvider::start(Behaviour::Honest {
        hostname: Some(OUR_HOST),
    })
    .await;
    let app = captcha_app(CaptchaService::HCaptcha, &fake).await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/register/password").await;
    let mut request = post_register_form(&form, &fields(&[("h-captcha-response", RIGHT_ANSWER)]));
    request.extensions_mut().insert(ConnectionInfo {
        listener: Arc::from("web"),
        local: LocalAddr::Tcp(SocketAddr::from(([127, 0, 0, 1], 8080))),
        transport_peer: Some(SocketAddr::from(([203, 0, 113, 7], 40_000))),
        proxied: None,
        tls: None,
    });

    let response = app.send(request).await;

    let status = response.status();
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{}",
        body_text(response).await
    );
    let received = fake.received();
    assert_eq!(
        received[0].get("remoteip").map(String::as_str),
        Some("203.0.113.7")
    );
}

#[tokio::test]
async fn a_wrong_answer_is_refused_with_the_form_and_creates_nobody() {
    let fake = FakeProvider::start(Behaviour::Honest {
        hostname: Some(OUR_HOST),
    })
    .await;
    let app = captcha_app(CaptchaService::RecaptchaV2, &fake).await;
    let mut browser = Browser::new(&app);

    let page =
        register_answering(&mut browser, CaptchaService::RecaptchaV2, "typed-by-a-bot").await;

    assert_refused(
        &app,
        &page,
        StatusCode::BAD_REQUEST,
        "The check that you are not a robot did not pass, so no account was created.",
    )
    .await;
    assert!(
        page.body.contains(r#"class="g-recaptcha""#),
        "the widget again"
    );
    assert!(
        page.body.contains(r#"value="bob""#),
        "what was typed is kept"
    );
    assert_eq!(fake.received().len(), 1);
}

#[tokio::test]
async fn a_right_answer_with_a_wrong_secret_key_is_refused() {
    let fake = FakeProvider::start(Behaviour::Honest {
        hostname: Some(OUR_HOST),
    })
    .await;
    let url = fake.url.clone();
    let app = app_with_site(
        |config| {
            open_registration(config);
            config.captcha = CaptchaConfig {
                service: Some(CaptchaService::CloudflareTurnstile),
                site_key: Some(SITE_KEY.to_owned()),
                secret_key: Some(Secret::new("not-the-secret-key")),
            };
        },
        |site| {
            let captcha = site.captcha.take().expect("configured");
            site.captcha = Some(captcha.with_verify_url(url));
        },
    )
    .await;
    let mut browser = Browser::new(&app);

    let page = register_answering(
        &mut browser,
        CaptchaService::CloudflareTurnstile,
        RIGHT_ANSWER,
    )
    .await;

    assert_refused(&app, &page, StatusCode::BAD_REQUEST, "did not pass").await;
}

#[tokio::test]
async fn an_answer_solved_on_another_site_is_refused() {
    let fake = FakeProvider::start(Behaviour::Honest {
        hostname: Some("evil.example.net"),
    })
    .await;
    let app = captcha_app(CaptchaService::HCaptcha, &fake).await;
    let mut browser = Browser::new(&app);

    let page = register_answering(&mut browser, CaptchaService::HCaptcha, RIGHT_ANSWER).await;

    assert_refused(
        &app,
        &page,
        StatusCode::BAD_REQUEST,
        "The check that you are not a robot did not pass",
    )
    .await;
}

#[tokio::test]
async fn a_yes_that_names_no_site_is_refused() {
    let fake = FakeProvider::start(Behaviour::Honest { hostname: None }).await;
    let app = captcha_app(CaptchaService::CloudflareTurnstile, &fake).await;
    let mut browser = Browser::new(&app);

    let done = register_answering(
        &mut browser,
        CaptchaService::CloudflareTurnstile,
        RIGHT_ANSWER,
    )
    .await;

    assert_eq!(done.status, StatusCode::BAD_REQUEST, "{}", done.body);
    assert!(
        done.body
            .contains("The check that you are not a robot did not pass")
    );
    assert!(find_user(&app, "bob").await.is_none());
}

#[tokio::test]
async fn a_missing_answer_is_refused_without_asking_the_provider() {
    let fake = FakeProvider::start(Behaviour::Honest {
        hostname: Some(OUR_HOST),
    })
    .await;
    let app = captcha_app(CaptchaService::RecaptchaV2, &fake).await;
    let mut browser = Browser::new(&app);

    for answer in [
        // No field at all: a client that skipped the widget.
        fields(&[]),
        // An empty field: the widget was not solved.
        fields(&[("g-recaptcha-response", " ")]),
        // Another provider's field does not count.
        fields(&[("h-captcha-response", RIGHT_ANSWER)]),
    ] {
        let page = register(&mut browser, "/register/password", &answer).await;
        assert_refused(
            &app,
            &page,
            StatusCode::BAD_REQUEST,
            "Complete the check that you are not a robot to create an account.",
        )
        .await;
    }
    assert!(fake.received().is_empty(), "nothing to ask about");
}

#[tokio::test]
async fn a_verifier_that_cannot_be_asked_creates_nobody_and_asks_to_retry() {
    let garbage = FakeProvider::start(Behaviour::Garbage).await;
    let broken = FakeProvider::start(Behaviour::Broken).await;
    let down = FakeProvider::unreachable().await;
    for (what, fake) in [("garbage", garbage), ("HTTP 500", broken), ("down", down)] {
        let app = captcha_app(CaptchaService::HCaptcha, &fake).await;
        let mut browser = Browser::new(&app);

        let page = register_answering(&mut browser, CaptchaService::HCaptcha, RIGHT_ANSWER).await;

        assert_eq!(
            page.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{what}: {}",
            page.body
        );
        assert!(
            page.body.contains(
                "The check that you are not a robot could not be verified just now, so no account was created."
            ),
            "{what}: {}",
            page.body
        );
        assert!(
            !page.body.contains(PASSWORD),
            "passwords are never sent back"
        );
        assert_eq!(user_count(&app).await, 0, "{what}: no account was created");
    }
}

#[tokio::test]
async fn a_verifier_that_hangs_is_given_up_on_and_creates_nobody() {
    let fake = FakeProvider::start(Behaviour::Hangs).await;
    let app = captcha_app_with_timeout(
        CaptchaService::CloudflareTurnstile,
        &fake,
        Duration::from_millis(300),
    )
    .await;
    let mut browser = Browser::new(&app);

    let page = register_answering(
        &mut browser,
        CaptchaService::CloudflareTurnstile,
        RIGHT_ANSWER,
    )
    .await;

    assert_refused(
        &app,
        &page,
        StatusCode::SERVICE_UNAVAILABLE,
        "could not be verified just now",
    )
    .await;
    assert_eq!(fake.received().len(), 1, "the provider was asked");
}

#[tokio::test]
async fn the_captcha_error_is_in_french_for_a_french_browser() {
    let fake = FakeProvider::start(Behaviour::Honest {
        hostname: Some(OUR_HOST),
    })
    .await;
    let app = captcha_app(CaptchaService::HCaptcha, &fake).await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/register/password").await;
    let mut request = post_register_form(&form, &fields(&[]));
    request
        .headers_mut()
        .insert(header::ACCEPT_LANGUAGE, "fr".parse().expect("a header"));

    let response = app.send(request).await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = body_text(response).await;
    assert!(
        body.contains("Effectuez la vérification que vous n’êtes pas un robot"),
        "{body}"
    );
}
