//! Cross-origin access: the APIs web clients call answer any origin, preflights included; the
//! pages for people, which rely on cookies, never do.

use crate::common::{TestApp, app};
use axum::{
    body::Body,
    http::{HeaderMap, Method, Request, StatusCode, header},
};

const ORIGIN: &str = "https://app.element.example";

/// Every endpoint a browser client calls cross-origin, with the method it uses.
const API_ENDPOINTS: &[(Method, &str)] = &[
    (Method::GET, "/.well-known/openid-configuration"),
    (Method::GET, "/.well-known/oauth-authorization-server"),
    (
        Method::GET,
        "/.well-known/webfinger?resource=acct:alice@example.com&rel=http://openid.net/specs/connect/1.0/issuer",
    ),
    (Method::GET, "/oauth2/keys.json"),
    (Method::POST, "/oauth2/registration"),
    (Method::POST, "/oauth2/token"),
    (Method::POST, "/oauth2/revoke"),
    (Method::POST, "/oauth2/introspect"),
    (Method::GET, "/oauth2/userinfo"),
    (Method::POST, "/oauth2/userinfo"),
    (Method::POST, "/oauth2/device"),
    (Method::GET, "/_matrix/client/v3/login"),
    (Method::POST, "/_matrix/client/v3/login"),
    (Method::POST, "/_matrix/client/v3/logout"),
    (Method::POST, "/_matrix/client/v3/logout/all"),
    (Method::POST, "/_matrix/client/v3/refresh"),
    (Method::POST, "/_matrix/client/r0/login"),
    (Method::POST, "/_matrix/client/r0/refresh"),
];

/// The pages for people, which rely on the browser session's cookie, and the admin API's paths:
/// they stay same-origin (the admin API is not served yet; its paths must not pick up CORS from
/// a layer applied too widely).
const PAGES: &[&str] = &[
    "/api/admin/v1/users",
    "/api/spec.json",
    "/",
    "/login",
    "/register",
    "/register/password",
    "/recover",
    "/authorize?client_id=01J0000000000000000000000&response_type=code",
    "/consent/01J0000000000000000000000",
    "/link",
    "/device/01J0000000000000000000000",
    "/oauth2/logout",
    "/complete-compat-sso/01J0000000000000000000000",
    "/_matrix/client/v3/login/sso/redirect?redirectUrl=https://app.element.example/",
    "/account",
    "/account/",
    "/account/sessions",
    "/account/password",
    "/account/cross-signing-reset",
    "/account/deactivate",
    "/.well-known/change-password",
    "/health",
];

/// The headers a browser client sends: the bearer token, a JSON or form body, the header
/// some libraries add, and the W3C trace context of instrumented clients.
const CLIENT_HEADERS: &str =
    "authorization,content-type,x-requested-with,traceparent,tracestate,baggage";

async fn preflight(app: &TestApp, method: &Method, uri: &str) -> (StatusCode, HeaderMap) {
    let response = app
        .send(
            Request::builder()
                .method(Method::OPTIONS)
                .uri(uri)
                .header(header::ORIGIN, ORIGIN)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, method.as_str())
                .header(header::ACCESS_CONTROL_REQUEST_HEADERS, CLIENT_HEADERS)
                .body(Body::empty())
                .expect("valid request"),
        )
        .await;
    (response.status(), response.headers().clone())
}

async fn cross_origin(app: &TestApp, method: &Method, uri: &str) -> (StatusCode, HeaderMap) {
    let response = app
        .send(
            Request::builder()
                .method(method)
                .uri(uri)
                .header(header::ORIGIN, ORIGIN)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::empty())
                .expect("valid request"),
        )
        .await;
    (response.status(), response.headers().clone())
}

fn header_value<'a>(headers: &'a HeaderMap, name: &header::HeaderName) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

/// The comma-separated items of a header, lowercased.
fn header_items(headers: &HeaderMap, name: &header::HeaderName) -> Vec<String> {
    header_value(headers, name)
        .split(',')
        .map(|item| item.trim().to_ascii_lowercase())
        .filter(|item| !item.is_empty())
        .collect()
}

#[tokio::test]
async fn every_client_api_answers_a_preflight_with_its_method_and_the_client_headers() {
    let app = app().await;
    for (method, uri) in API_ENDPOINTS {
        let (status, headers) = preflight(&app, method, uri).await;
        assert!(
            status.is_success(),
            "{method} {uri}: preflight got {status}"
        );
        assert_eq!(
            header_value(&headers, &header::ACCESS_CONTROL_ALLOW_ORIGIN),
            "*",
            "{method} {uri}"
        );
        let methods = header_items(&headers, &header::ACCESS_CONTROL_ALLOW_METHODS);
        assert!(
            methods.contains(&method.as_str().to_ascii_lowercase()),
            "{method} {uri}: allowed methods {methods:?}"
        );
        let allowed = header_items(&headers, &header::ACCESS_CONTROL_ALLOW_HEADERS);
        for wanted in CLIENT_HEADERS.split(',') {
            assert!(
                allowed.iter().any(|item| item == wanted),
                "{method} {uri}: {wanted} not in {allowed:?}"
            );
        }
        assert_eq!(
            header_value(&headers, &header::ACCESS_CONTROL_MAX_AGE),
            "3600",
            "{method} {uri}"
        );
        assert!(
            headers
                .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
                .is_none(),
            "{method} {uri}: no credentials across origins"
        );
    }
}

#[tokio::test]
async fn every_client_api_lets_any_origin_read_its_answers_and_their_challenge() {
    let app = app().await;
    for (method, uri) in API_ENDPOINTS {
        // Most of these calls are refused (no client, no token): the browser must still let
        // the client read the error, or it cannot tell the user what went wrong.
        let (status, headers) = cross_origin(&app, method, uri).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert_eq!(
            header_value(&headers, &header::ACCESS_CONTROL_ALLOW_ORIGIN),
            "*",
            "{method} {uri} answered {status}"
        );
        let exposed = header_items(&headers, &header::ACCESS_CONTROL_EXPOSE_HEADERS);
        assert!(
            exposed.iter().any(|item| item == "www-authenticate"),
            "{method} {uri}: exposes {exposed:?}"
        );
    }
}

#[tokio::test]
async fn a_refused_bearer_token_at_userinfo_comes_with_a_challenge_the_client_may_read() {
    let app = app().await;
    let response = app
        .send(
            Request::get("/oauth2/userinfo")
                .header(header::ORIGIN, ORIGIN)
                .header(header::AUTHORIZATION, "Bearer mat_not_a_real_token")
                .body(Body::empty())
                .expect("valid request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    assert_eq!(
        header_value(response.headers(), &header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "*"
    );
}

#[tokio::test]
async fn the_pages_for_people_send_no_cors_headers_even_when_asked() {
    let app = app().await;
    for uri in PAGES {
        let (status, headers) = cross_origin(&app, &Method::GET, uri).await;
        assert!(
            !headers
                .keys()
                .any(|name| name.as_str().starts_with("access-control-")),
            "GET {uri} ({status}) sent {headers:?}"
        );
        let (status, headers) = preflight(&app, &Method::POST, uri).await;
        assert!(
            !status.is_success(),
            "a preflight to {uri} must not succeed: {status}"
        );
        assert!(
            !headers
                .keys()
                .any(|name| name.as_str().starts_with("access-control-")),
            "OPTIONS {uri} ({status}) sent {headers:?}"
        );
    }
}

#[tokio::test]
async fn cors_follows_the_routes_under_a_listener_prefix() {
    let app = app().await;
    let resources = [
        portcullis_config::sections::http::Resource::new(
            portcullis_config::sections::http::ResourceName::OAuth,
        ),
        portcullis_config::sections::http::Resource::new(
            portcullis_config::sections::http::ResourceName::Human,
        ),
    ];
    let router = portcullis_http::router(
        &resources,
        Some("/auth"),
        app.state.clone(),
        &portcullis_http::Mounted::default(),
    )
    .expect("available");
    let send = |uri: &'static str| {
        let router = router.clone();
        async move {
            tower::ServiceExt::oneshot(
                router,
                Request::builder()
                    .method(Method::OPTIONS)
                    .uri(uri)
                    .header(header::ORIGIN, ORIGIN)
                    .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                    .body(Body::empty())
                    .expect("valid request"),
            )
            .await
            .expect("infallible")
        }
    };
    let token = send("/auth/oauth2/token").await;
    assert!(token.status().is_success(), "{}", token.status());
    assert_eq!(
        header_value(token.headers(), &header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "*"
    );
    let login = send("/auth/login").await;
    assert!(
        !login
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
}
