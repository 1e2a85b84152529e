//! The policy's decisions through the router, on SQLite and on PostgreSQL: each `policy.data`
//! key MAS's default policy reads, with a case it allows and a case it refuses, and each
//! refusal in the protocol of whoever asked (a page, a Matrix error, an OAuth 2.0 error).

use std::num::NonZeroU32;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::common::{
    Backend, TestApp,
    account::PASSWORD,
    app_on,
    browser::{Browser, Page},
    compat::{login, password_body},
    oauth::{CLIENT_SECRET, add_client, basic, post_form_with_auth},
};

const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// An application with `data` as `policy.data`, open registration without email, and no rate
/// limit in the way.
async fn app_with_data(backend: Backend, data: Value) -> Option<TestApp> {
    app_on(backend, |config| {
        config.policy.data = data;
        config.account.password_registration_enabled = true;
        config.account.password_registration_email_required = false;
        config.rate_limiting.registration =
            portcullis_config::sections::rate_limiting::RateLimiterConfig {
                burst: NonZeroU32::new(1000).expect("not zero"),
                per_second: 1.0,
            };
    })
    .await
}

/// Registers `username` (with `email` when not empty) through the password form.
async fn register(app: &TestApp, username: &str, email: &str) -> Page {
    let mut browser = Browser::new(app);
    let form = browser.get("/register/password").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.field("csrf").expect("a csrf field");
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("username", username),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    if !email.is_empty() {
        fields.push(("email", email));
    }
    browser.post("/register/password", &fields).await
}

/// Whether registration of `username` (and `email`) went through (a redirect: signed in, or
/// on to verify the address); otherwise the page must say `refusal`.
async fn registration_allowed(app: &TestApp, username: &str, email: &str) -> Result<(), String> {
    let page = register(app, username, email).await;
    if page.status == StatusCode::SEE_OTHER {
        Ok(())
    } else {
        Err(format!("{} {}", page.status, page.body))
    }
}

#[tokio::test]
async fn registration_follows_the_username_rules_and_the_data() {
    // (policy.data, username, email, allowed?, what the refusal page says)
    let cases: Vec<(Value, &str, &str, bool, &str)> = vec![
        (json!({}), "alice", "", true, ""),
        (json!({}), "12345", "", false, "digits only"),
        (
            json!({"registration": {"banned_usernames": {"literals": ["admin"]}}}),
            "admin",
            "",
            false,
            "This username is not available.",
        ),
        (
            json!({"registration": {"banned_usernames": {"substrings": ["matrix"]}}}),
            "mymatrix",
            "",
            false,
            "This username is not available.",
        ),
        (
            json!({"registration": {"banned_usernames": {"regexes": ["^support-[0-9]+$"]}}}),
            "support-12",
            "",
            false,
            "This username is not available.",
        ),
        (
            json!({"registration": {"banned_usernames": {"prefixes": ["bot-"]}}}),
            "botany",
            "",
            true,
            "",
        ),
        (
            json!({"registration": {"banned_usernames": {"suffixes": ["-staff"]}}}),
            "jo-staff",
            "",
            false,
            "This username is not available.",
        ),
        (
            json!({"registration": {"allowed_usernames": {"prefixes": ["team-"]}}}),
            "team-alice",
            "",
            true,
            "",
        ),
        (
            json!({"registration": {"allowed_usernames": {"prefixes": ["team-"]}}}),
            "alice",
            "",
            false,
            "This username is not allowed on this server.",
        ),
        (
            json!({"allowed_domains": ["*.corp.example"]}),
            "alice",
            "alice@mail.corp.example",
            true,
            "",
        ),
        (
            json!({"allowed_domains": ["*.corp.example"]}),
            "alice",
            "alice@home.example",
            false,
            "Addresses at this domain are not accepted",
        ),
        (
            json!({"banned_domains": ["spam.example"]}),
            "alice",
            "alice@spam.example",
            false,
            "Addresses at this domain are not accepted",
        ),
        (
            json!({"emails": {"banned_addresses": {"literals": ["boss@corp.example"]}}}),
            "alice",
            "boss@corp.example",
            false,
            "This email address is not accepted",
        ),
        (
            json!({"emails": {"allowed_addresses": {"suffixes": ["@corp.example"]}}}),
            "alice",
            "alice@home.example",
            false,
            "This email address is not accepted",
        ),
    ];
    for backend in BACKENDS {
        for (data, username, email, allowed, says) in &cases {
            let Some(app) = app_with_data(backend, data.clone()).await else {
                continue;
            };
            let outcome = registration_allowed(&app, username, email).await;
            match (allowed, outcome) {
                (true, Ok(())) => {}
                (false, Err(page)) => assert!(
                    page.contains(says),
                    "{backend:?} {data} {username}: the page should say {says:?}: {page}"
                ),
                (true, Err(page)) => panic!("{backend:?} {data} {username}: refused: {page}"),
                (false, Ok(())) => panic!("{backend:?} {data} {username}: allowed"),
            }
            app.finish().await;
        }
    }
}

#[tokio::test]
async fn the_refusal_page_is_in_the_language_of_the_browser() {
    let Some(app) = app_with_data(
        Backend::Sqlite,
        json!({"registration": {"banned_usernames": {"literals": ["admin"]}}}),
    )
    .await
    else {
        return;
    };
    let mut browser = Browser::new(&app);
    browser.set_language("fr");
    let form = browser.get("/register/password").await;
    let csrf = form.field("csrf").expect("a csrf field");
    let page = browser
        .post(
            "/register/password",
            &[
                ("csrf", &csrf),
                ("username", "admin"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("utilisateur n&#x27;est pas disponible"),
        "{}",
        page.body
    );
}

/// A compat password login of `username` from `user_agent`: the errcode, or `None` when it
/// went through.
async fn compat_login(app: &TestApp, username: &str, extra: &Value) -> Option<String> {
    let response = login(app, &password_body(username, extra)).await;
    if response.status() == StatusCode::OK {
        return None;
    }
    let status = response.status();
    let body = crate::common::body_json(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    Some(format!("{} {}", body["errcode"], body["error"]))
}

#[tokio::test]
async fn compat_logins_are_held_to_the_hard_session_limit_unless_they_replace_a_device() {
    for backend in BACKENDS {
        let Some(app) = app_on(backend, |config| {
            config.experimental.session_limit = Some(
                portcullis_config::sections::experimental::SessionLimitConfig {
                    soft_limit: std::num::NonZeroU64::new(1).expect("not zero"),
                    hard_limit: std::num::NonZeroU64::new(2).expect("not zero"),
                    max_session_threshold: None,
                    dangerous_hard_limit_eviction: false,
                },
            );
        })
        .await
        else {
            continue;
        };
        crate::common::add_user_with_password(&app, "alice", PASSWORD, false).await;
        assert_eq!(
            compat_login(&app, "alice", &json!({"device_id": "DEVICEONE1"})).await,
            None
        );
        assert_eq!(
            compat_login(&app, "alice", &json!({"device_id": "DEVICETWO2"})).await,
            None
        );
        let refused = compat_login(&app, "alice", &json!({"device_id": "DEVICETHR3"}))
            .await
            .expect("a third session is over the hard limit");
        assert!(refused.contains("M_FORBIDDEN"), "{refused}");
        assert!(refused.contains("too many active sessions"), "{refused}");
        // Signing in again on a device replaces its session: no session is added.
        assert_eq!(
            compat_login(&app, "alice", &json!({"device_id": "DEVICEONE1"})).await,
            None,
            "{backend:?}"
        );
        app.finish().await;
    }
}

/// A login request from `ip`, as the listener would mark it.
fn login_from(ip: [u8; 4], body: &Value) -> axum::http::Request<axum::body::Body> {
    let mut request = crate::common::compat::post_json("/_matrix/client/v3/login", body);
    request
        .extensions_mut()
        .insert(portcullis_listener::ConnectionInfo {
            listener: std::sync::Arc::from("web"),
            local: portcullis_listener::LocalAddr::Tcp(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                8080,
            ))),
            transport_peer: Some(std::net::SocketAddr::from((ip, 40_000))),
            proxied: None,
            tls: None,
        });
    request
}

#[tokio::test]
async fn compat_logins_from_banned_addresses_and_user_agents_are_refused() {
    for backend in BACKENDS {
        let Some(app) = app_on(backend, |config| {
            config.policy.data = json!({"requester": {
                "banned_user_agents": {"substrings": ["BadBot/"]},
                "banned_ips": ["192.0.2.0/24", "2001:db8::1"],
            }});
        })
        .await
        else {
            continue;
        };
        crate::common::add_user_with_password(&app, "alice", PASSWORD, false).await;
        // The test router sends no User-Agent: allowed.
        assert_eq!(compat_login(&app, "alice", &json!({})).await, None);
        let request = axum::http::Request::post("/_matrix/client/v3/login")
            .header("content-type", "application/json")
            .header("user-agent", "BadBot/1.0")
            .body(axum::body::Body::from(
                password_body("alice", &json!({})).to_string(),
            ))
            .expect("a request");
        let response = app.send(request).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{backend:?}");
        let body = crate::common::body_json(response).await;
        assert_eq!(body["errcode"], "M_FORBIDDEN");
        let banned = app
            .send(login_from(
                [192, 0, 2, 7],
                &password_body("alice", &json!({})),
            ))
            .await;
        assert_eq!(banned.status(), StatusCode::FORBIDDEN, "{backend:?}");
        let elsewhere = app
            .send(login_from(
                [198, 51, 100, 7],
                &password_body("alice", &json!({})),
            ))
            .await;
        assert_eq!(elsewhere.status(), StatusCode::OK, "{backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn admin_clients_decide_who_gets_the_admin_scope_through_client_credentials() {
    for backend in BACKENDS {
        let Some(app) = app_on(backend, |config| {
            config.policy.data = json!({ "admin_clients": ["admin-service"] });
        })
        .await
        else {
            continue;
        };
        for client_id in ["service", "admin-service"] {
            add_client(
                &app,
                client_id,
                "client_secret_basic",
                &["client_credentials"],
            )
            .await;
        }
        let ask = |client_id: &str| {
            post_form_with_auth(
                "/oauth2/token",
                &basic(client_id, CLIENT_SECRET),
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "urn:mas:admin"),
                ],
            )
        };
        let refused = app.send(ask("service")).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{backend:?}");
        let body = crate::common::body_json(refused).await;
        assert_eq!(body["error"], "invalid_scope");
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| d.contains("urn:mas:admin")),
            "{body}"
        );
        let allowed = app.send(ask("admin-service")).await;
        assert_eq!(allowed.status(), StatusCode::OK, "{backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn adding_an_email_follows_the_email_rules() {
    for backend in BACKENDS {
        let Some(app) = app_on(backend, |config| {
            config.policy.data = json!({"banned_domains": ["*.spam.example"]});
        })
        .await
        else {
            continue;
        };
        let (mut browser, _alice) = crate::common::account::signed_in(&app, "alice").await;
        let csrf = crate::common::account::csrf_of(&mut browser, "/account/").await;
        let refused = browser
            .post(
                "/account/emails",
                &[("csrf", &csrf), ("email", "a@x.spam.example")],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend:?}"
        );
        assert!(
            refused
                .body
                .contains("Addresses at this domain are not accepted"),
            "{}",
            refused.body
        );
        let csrf = crate::common::account::csrf_of(&mut browser, "/account/").await;
        let allowed = browser
            .post(
                "/account/emails",
                &[("csrf", &csrf), ("email", "a@example.org")],
            )
            .await;
        assert_eq!(allowed.status, StatusCode::SEE_OTHER, "{}", allowed.body);
        app.finish().await;
    }
}

/// A native client on localhost, as a developer registers one.
fn local_client() -> Value {
    json!({
        "client_name": "Dev",
        "client_uri": "http://localhost:3000/",
        "application_type": "web",
        "redirect_uris": ["http://localhost:3000/callback"],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    })
}

#[tokio::test]
async fn client_registration_data_relaxes_the_rules_for_development() {
    let on_another_site = json!({
        "client_name": "Elsewhere",
        "client_uri": "https://example.com/",
        "redirect_uris": ["https://app.example.net/callback"],
        "token_endpoint_auth_method": "none",
    });
    let anonymous = json!({
        "client_name": "Anonymous",
        "application_type": "native",
        "redirect_uris": ["http://127.0.0.1/callback"],
        "token_endpoint_auth_method": "none",
    });
    let no_contacts = json!({
        "client_uri": "https://example.com/",
        "redirect_uris": ["https://example.com/callback"],
        "token_endpoint_auth_method": "none",
    });
    // (policy.data.client_registration, metadata, the error, or None when registered)
    let cases: Vec<(Value, Value, Option<&str>)> = vec![
        (
            json!({}),
            local_client(),
            Some("invalid_client_metadata client_uri must use https"),
        ),
        (json!({"allow_insecure_uris": true}), local_client(), None),
        (
            json!({}),
            on_another_site.clone(),
            Some("invalid_redirect_uri redirect_uris[0] must be on the same site"),
        ),
        (json!({"allow_host_mismatch": true}), on_another_site, None),
        (
            json!({}),
            anonymous.clone(),
            Some("invalid_client_metadata client_uri is required"),
        ),
        (json!({"allow_missing_client_uri": true}), anonymous, None),
        (
            json!({"allow_missing_contacts": false}),
            no_contacts.clone(),
            None,
        ),
        (json!({"allow_missing_contacts": true}), no_contacts, None),
    ];
    for backend in BACKENDS {
        for (settings, metadata, expected) in &cases {
            let data = json!({"client_registration": settings});
            let Some(app) = app_on(backend, |config| config.policy.data = data.clone()).await
            else {
                continue;
            };
            let request = axum::http::Request::post("/oauth2/registration")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(metadata.to_string()))
                .expect("a request");
            let response = app.send(request).await;
            let status = response.status();
            let body = crate::common::body_json(response).await;
            match expected {
                None => assert_eq!(status, StatusCode::CREATED, "{backend:?} {settings} {body}"),
                Some(error) => {
                    assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?} {body}");
                    let found = format!(
                        "{} {}",
                        body["error"].as_str().unwrap_or_default(),
                        body["error_description"].as_str().unwrap_or_default()
                    );
                    assert!(found.starts_with(error), "{backend:?} {settings}: {found}");
                }
            }
            app.finish().await;
        }
    }
}

/// Signs `username` in through an authorization request for `scope` and answers the consent:
/// the error the client gets, or `None` when it gets a code.
async fn authorize(app: &TestApp, username: &str, scope: &str) -> Option<String> {
    use crate::authorization::{authorize_uri, query_of, sign_in};
    let mut browser = Browser::new(app);
    let uri = authorize_uri("confidential-app", "").replace(
        "scope=openid%20urn%3Amatrix%3Aclient%3Aapi%3A*",
        &format!(
            "scope={}",
            url::form_urlencoded::byte_serialize(scope.as_bytes()).collect::<String>()
        ),
    );
    let start = browser.get(&uri).await;
    let consent = sign_in(&mut browser, &start, username, PASSWORD).await;
    let path = consent.location_path();
    let page = browser.get(&path).await;
    let page = if page.status == StatusCode::OK {
        let csrf = page.field("csrf").expect("a csrf field");
        browser
            .post(&path, &[("csrf", &csrf), ("action", "allow")])
            .await
    } else {
        page
    };
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let params = query_of(page.location.as_deref().expect("a redirect"));
    params.get("error").map(|error| {
        format!(
            "{error} {}",
            params.get("error_description").cloned().unwrap_or_default()
        )
    })
}

#[tokio::test]
async fn admin_users_and_the_soft_session_limit_decide_consent() {
    for backend in BACKENDS {
        let Some(app) = app_on(backend, |config| {
            config.policy.data = json!({"admin_users": ["alice"]});
            config.experimental.session_limit = Some(
                portcullis_config::sections::experimental::SessionLimitConfig {
                    soft_limit: std::num::NonZeroU64::new(2).expect("not zero"),
                    hard_limit: std::num::NonZeroU64::new(5).expect("not zero"),
                    max_session_threshold: None,
                    dangerous_hard_limit_eviction: false,
                },
            );
        })
        .await
        else {
            continue;
        };
        crate::authorization::add_user(&app, "alice", PASSWORD, false).await;
        crate::authorization::add_user(&app, "bob", PASSWORD, false).await;
        crate::authorization::add_client(&app, "confidential-app", "client_secret_basic").await;
        let admin = "openid urn:matrix:client:api:* urn:synapse:admin:*";

        // alice is listed in admin_users, bob is not.
        assert_eq!(authorize(&app, "alice", admin).await, None, "{backend:?}");
        let refused = authorize(&app, "bob", admin)
            .await
            .expect("bob is no admin");
        assert!(refused.starts_with("access_denied"), "{refused}");
        assert!(refused.contains("urn:synapse:admin:*"), "{refused}");

        // Two compat sessions reach the soft limit: the next consent is refused.
        assert_eq!(
            compat_login(&app, "bob", &json!({"device_id": "BOBDEVICE1"})).await,
            None
        );
        assert_eq!(
            compat_login(&app, "bob", &json!({"device_id": "BOBDEVICE2"})).await,
            None
        );
        let refused = authorize(&app, "bob", "openid urn:matrix:client:api:*")
            .await
            .expect("over the soft limit");
        assert!(refused.starts_with("access_denied"), "{refused}");
        assert!(refused.contains("too many active sessions"), "{refused}");
        app.finish().await;
    }
}

#[tokio::test]
async fn with_eviction_a_login_at_the_hard_limit_ends_the_least_recently_used_session() {
    for backend in BACKENDS {
        let Some(app) = app_on(backend, |config| {
            config.experimental.session_limit = Some(
                portcullis_config::sections::experimental::SessionLimitConfig {
                    soft_limit: std::num::NonZeroU64::new(1).expect("not zero"),
                    hard_limit: std::num::NonZeroU64::new(2).expect("not zero"),
                    max_session_threshold: None,
                    dangerous_hard_limit_eviction: true,
                },
            );
        })
        .await
        else {
            continue;
        };
        let alice = crate::common::add_user_with_password(&app, "alice", PASSWORD, false).await;
        assert_eq!(
            compat_login(&app, "alice", &json!({"device_id": "OLDDEVICE1"})).await,
            None
        );
        app.clock.advance(chrono::TimeDelta::minutes(1));
        assert_eq!(
            compat_login(&app, "alice", &json!({"device_id": "NEWDEVICE2"})).await,
            None
        );
        app.clock.advance(chrono::TimeDelta::minutes(1));
        assert_eq!(
            compat_login(&app, "alice", &json!({"device_id": "NEWDEVICE3"})).await,
            None,
            "{backend:?}"
        );
        let devices: Vec<String> = crate::common::compat::active_sessions(&app, &alice)
            .await
            .into_iter()
            .map(|session| session.device_id)
            .collect();
        assert_eq!(devices, ["NEWDEVICE2", "NEWDEVICE3"], "{backend:?}");
        app.finish().await;
    }
}
