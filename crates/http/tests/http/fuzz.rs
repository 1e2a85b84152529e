//! Property-based fuzzing through the router, where outside input arrives: Matrix login
//! bodies, the authorization query, dynamic client registration bodies, token requests with
//! any client authentication, and cookies. Every answer is a status the protocol defines; no
//! handler panics or fails with a server error.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use proptest::{prelude::*, test_runner::TestRunner};
use serde_json::Value;

/// The number of cases: `default`, or `PROPTEST_CASES` when set (to fuzz longer on demand).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

use crate::common::{TestApp, app};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_:@.=+/%#&?;, -]{0,60}",
        "(m\\.login\\.(password|token|sso|application_service)|m\\.id\\.(user|thirdparty|phone)|@alice:example\\.com|alice)",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(vec![
                        "type",
                        "identifier",
                        "user",
                        "password",
                        "token",
                        "device_id",
                        "initial_device_display_name",
                        "refresh_token",
                        "medium",
                        "address",
                        "client_uri",
                        "redirect_uris",
                        "grant_types",
                        "application_type",
                        "token_endpoint_auth_method",
                        "jwks",
                    ])
                    .prop_map(str::to_owned),
                    "[a-z_#]{1,10}",
                ],
                inner,
                0..6,
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A body: JSON of any shape, or any bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json().prop_map(|value| value.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..200),
    ]
}

/// A query or form body: `keys` and other names, each with any text.
fn form(keys: Vec<&'static str>) -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop_oneof![prop::sample::select(keys).prop_map(str::to_owned), text()],
            text(),
        ),
        0..10,
    )
    .prop_map(|pairs| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    })
}

/// Sends `request` and checks that the answer is not a server error.
fn answers(runtime: &tokio::runtime::Runtime, app: &TestApp, request: Request<Body>) -> StatusCode {
    runtime.block_on(app.send(request)).status()
}

fn run<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(ProptestConfig::with_cases(self::cases(cases)));
    if let Err(error) = runner.run(&strategy, test) {
        panic!("{error}");
    }
}

#[test]
fn matrix_login_bodies_are_answered_with_matrix_errors() {
    let runtime = runtime();
    let app = runtime.block_on(app());
    run(600, body(), |body| {
        let request = Request::post("/_matrix/client/v3/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("a request");
        let status = answers(&runtime, &app, request);
        prop_assert!(!status.is_server_error(), "{status}");
        Ok(())
    });
}

#[test]
fn authorization_queries_are_answered_without_server_errors() {
    let runtime = runtime();
    let app = runtime.block_on(app());
    let query = form(vec![
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "prompt",
        "max_age",
        "code_challenge",
        "code_challenge_method",
        "response_mode",
        "login_hint",
    ]);
    run(600, query, |query| {
        for path in ["/authorize", "/oauth2/device", "/login", "/register"] {
            let request = Request::get(format!("{path}?{query}"))
                .body(Body::empty())
                .expect("a request");
            let status = answers(&runtime, &app, request);
            prop_assert!(!status.is_server_error(), "{path}: {status}");
        }
        Ok(())
    });
}

#[test]
fn client_registration_bodies_are_answered_with_oauth_errors() {
    let runtime = runtime();
    let app = runtime.block_on(app());
    run(600, body(), |body| {
        let request = Request::post("/oauth2/registration")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("a request");
        let status = answers(&runtime, &app, request);
        prop_assert!(
            status == StatusCode::CREATED || status.is_client_error(),
            "{status}"
        );
        Ok(())
    });
}

#[test]
fn token_requests_with_any_client_authentication_are_answered_with_oauth_errors() {
    let runtime = runtime();
    let app = runtime.block_on(app());
    let form = form(vec![
        "grant_type",
        "code",
        "refresh_token",
        "device_code",
        "scope",
        "client_id",
        "client_secret",
        "client_assertion",
        "client_assertion_type",
        "code_verifier",
        "redirect_uri",
    ]);
    let authorization = proptest::option::of(prop_oneof![
        text(),
        "(Basic|Bearer|basic) [A-Za-z0-9+/=:_-]{0,40}",
    ]);
    run(600, (form, authorization), |(form, authorization)| {
        for path in ["/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"] {
            let mut request = Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            if let Some(value) = &authorization
                && let Ok(value) = header::HeaderValue::from_str(value)
            {
                request = request.header(header::AUTHORIZATION, value);
            }
            let request = request.body(Body::from(form.clone())).expect("a request");
            let status = answers(&runtime, &app, request);
            prop_assert!(!status.is_server_error(), "{path}: {status}");
        }
        Ok(())
    });
}

#[test]
fn any_cookie_header_is_ignored_or_refused_without_server_errors() {
    let runtime = runtime();
    let app = runtime.block_on(app());
    let cookie = prop_oneof![
        any::<String>(),
        "((session|csrf|logged-out|upstream[a-z-]{0,10}|[a-z]{1,6})=[A-Za-z0-9+/=%_-]{0,60}; ?){1,4}",
    ];
    run(600, cookie, |cookie| {
        let Ok(value) = header::HeaderValue::from_str(&cookie) else {
            return Ok(());
        };
        for path in ["/", "/account/", "/account/sessions", "/login"] {
            let request = Request::get(path)
                .header(header::COOKIE, value.clone())
                .body(Body::empty())
                .expect("a request");
            let status = answers(&runtime, &app, request);
            prop_assert!(!status.is_server_error(), "{path}: {status}");
        }
        Ok(())
    });
}
