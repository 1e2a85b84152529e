//! What goes over the wire and how answers are read, against a tiny local HTTP server that
//! records every request and gives a chosen answer. The behaviour against a real Synapse is
//! in `synapse.rs`.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use portcullis_config::sections::matrix::{HomeserverKind, MatrixConfig};
use portcullis_homeserver::{
    HomeserverConnection, HomeserverError, LocalpartAvailability, ProvisionRequest,
    ReadOnlyConnection, SynapseConnection, UpsertOutcome, connection_from_config,
};
use serde_json::{Value, json};
use url::Url;

const SECRET: &str = "the-shared-secret";

/// One request as the fake homeserver saw it.
#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    path: String,
    query: Option<String>,
    authorization: Option<String>,
    user_agent: Option<String>,
    body: Option<Value>,
}

struct Script {
    /// An answer for the first request only, before `status` and `body` for every other.
    first: Mutex<Option<(StatusCode, String)>>,
    status: StatusCode,
    body: String,
    location: Option<String>,
    delay: Duration,
    requests: Mutex<Vec<Recorded>>,
}

/// A local HTTP server that answers every request the same way and records them all.
struct FakeHomeserver {
    url: Url,
    script: Arc<Script>,
}

impl FakeHomeserver {
    async fn answering(status: u16, body: &str) -> Self {
        Self::start(status, body, None, Duration::ZERO).await
    }

    async fn start(status: u16, body: &str, location: Option<&str>, delay: Duration) -> Self {
        let script = Arc::new(Script {
            first: Mutex::new(None),
            status: StatusCode::from_u16(status).expect("the tests use valid status codes"),
            body: body.to_owned(),
            location: location.map(str::to_owned),
            delay,
            requests: Mutex::new(Vec::new()),
        });
        let router = Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port is free");
        let address = listener
            .local_addr()
            .expect("a bound socket has an address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        let url = Url::parse(&format!("http://{address}/")).expect("a socket address makes a URL");
        Self { url, script }
    }

    /// Answers the first request with `first_status` and `first_body`, every later one with
    /// `status` and `body`.
    async fn answering_first(first_status: u16, first_body: &str, status: u16, body: &str) -> Self {
        let fake = Self::answering(status, body).await;
        *fake.script.first.lock().expect("not poisoned") = Some((
            StatusCode::from_u16(first_status).expect("the tests use valid status codes"),
            first_body.to_owned(),
        ));
        fake
    }

    fn connection(&self) -> SynapseConnection {
        SynapseConnection::new("example.org", &self.url, SECRET).expect("the fake's URL is valid")
    }

    fn requests(&self) -> Vec<Recorded> {
        self.script
            .requests
            .lock()
            .expect("no test panics while holding the lock")
            .clone()
    }

    fn only_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(
            requests.len(),
            1,
            "expected exactly one request: {requests:?}"
        );
        requests[0].clone()
    }
}

async fn answer(
    State(script): State<Arc<Script>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header_text = |name| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    script
        .requests
        .lock()
        .expect("no test panics while holding the lock")
        .push(Recorded {
            method,
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            authorization: header_text(header::AUTHORIZATION),
            user_agent: header_text(header::USER_AGENT),
            body: serde_json::from_slice(&body).ok(),
        });
    tokio::time::sleep(script.delay).await;
    let first = script
        .first
        .lock()
        .expect("no test panics while holding the lock")
        .take();
    let (status, body) = first.unwrap_or_else(|| (script.status, script.body.clone()));
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(location) = &script.location {
        response.headers_mut().insert(
            header::LOCATION,
            location.parse().expect("the tests use valid locations"),
        );
    }
    response
}

/// A loopback URL nothing listens on.
async fn closed_port_url() -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port is free");
    let address = listener
        .local_addr()
        .expect("a bound socket has an address");
    drop(listener);
    Url::parse(&format!("http://{address}/")).expect("a socket address makes a URL")
}

// ---------------------------------------------------------------- requests --

#[tokio::test]
async fn every_call_carries_the_shared_secret_and_a_user_agent() {
    let fake = FakeHomeserver::answering(200, "{}").await;
    let connection = fake.connection();

    connection
        .reactivate_user("alice")
        .await
        .expect("200 is a success");
    connection
        .is_localpart_available("alice")
        .await
        .expect("200 is a success");

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for request in requests {
        assert_eq!(
            request.authorization.as_deref(),
            Some("Bearer the-shared-secret")
        );
        let user_agent = request.user_agent.unwrap_or_default();
        assert!(user_agent.starts_with("portcullis/"), "{user_agent}");
    }
}

#[tokio::test]
async fn provisioning_sends_set_and_unset_fields_and_omits_untouched_ones() {
    let fake = FakeHomeserver::answering(201, "{}").await;

    let outcome = fake
        .connection()
        .provision_user(
            &ProvisionRequest::new("alice")
                .set_displayname("Alice")
                .unset_avatar_url()
                .set_emails(vec!["alice@example.org".to_owned()])
                .locked(false),
        )
        .await
        .expect("201 is a success");

    assert_eq!(outcome, UpsertOutcome::Created);
    let request = fake.only_request();
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, "/_synapse/mas/provision_user");
    assert_eq!(
        request.body,
        Some(json!({
            "localpart": "alice",
            "set_displayname": "Alice",
            "unset_avatar_url": true,
            "set_emails": ["alice@example.org"],
            "locked": false,
        }))
    );
}

#[tokio::test]
async fn a_provision_request_that_touches_nothing_sends_only_the_localpart() {
    let fake = FakeHomeserver::answering(200, "{}").await;

    let outcome = fake
        .connection()
        .provision_user(&ProvisionRequest::new("alice"))
        .await
        .expect("200 is a success");

    assert_eq!(outcome, UpsertOutcome::Updated);
    assert_eq!(
        fake.only_request().body,
        Some(json!({"localpart": "alice"}))
    );
}

#[tokio::test]
async fn unsetting_the_display_name_and_emails_at_provisioning_sends_the_unset_flags() {
    let fake = FakeHomeserver::answering(200, "{}").await;

    fake.connection()
        .provision_user(
            &ProvisionRequest::new("alice")
                .unset_displayname()
                .set_avatar_url("mxc://example.org/abc")
                .unset_emails()
                .locked(true),
        )
        .await
        .expect("200 is a success");

    assert_eq!(
        fake.only_request().body,
        Some(json!({
            "localpart": "alice",
            "unset_displayname": true,
            "set_avatar_url": "mxc://example.org/abc",
            "unset_emails": true,
            "locked": true,
        }))
    );
}

#[tokio::test]
async fn user_calls_send_the_bodies_synapse_expects() {
    let fake = FakeHomeserver::answering(200, "{}").await;
    let connection = fake.connection();

    connection
        .delete_user("alice", true)
        .await
        .expect("success");
    connection.reactivate_user("alice").await.expect("success");
    connection
        .set_displayname("alice", "Alice")
        .await
        .expect("success");
    connection
        .unset_displayname("alice")
        .await
        .expect("success");
    connection
        .allow_cross_signing_reset("alice")
        .await
        .expect("success");

    let sent: Vec<(String, Option<Value>)> = fake
        .requests()
        .into_iter()
        .map(|request| (request.path, request.body))
        .collect();
    let expected = [
        ("delete_user", json!({"localpart": "alice", "erase": true})),
        ("reactivate_user", json!({"localpart": "alice"})),
        (
            "set_displayname",
            json!({"localpart": "alice", "displayname": "Alice"}),
        ),
        ("unset_displayname", json!({"localpart": "alice"})),
        ("allow_cross_signing_reset", json!({"localpart": "alice"})),
    ]
    .map(|(endpoint, body)| (format!("/_synapse/mas/{endpoint}"), Some(body)));
    assert_eq!(sent, expected);
}

#[tokio::test]
async fn device_calls_send_the_bodies_synapse_expects() {
    let fake = FakeHomeserver::answering(200, "{}").await;
    let connection = fake.connection();
    let devices = BTreeSet::from(["BBB".to_owned(), "AAA".to_owned()]);

    connection
        .upsert_device("alice", "AAA", None)
        .await
        .expect("success");
    connection
        .upsert_device("alice", "AAA", Some("Phone"))
        .await
        .expect("success");
    connection
        .update_device_display_name("alice", "AAA", "Laptop")
        .await
        .expect("success");
    connection
        .delete_device("alice", "AAA")
        .await
        .expect("success");
    connection
        .sync_devices("alice", &devices)
        .await
        .expect("success");

    let sent: Vec<(String, Option<Value>)> = fake
        .requests()
        .into_iter()
        .map(|request| (request.path, request.body))
        .collect();
    let expected = [
        (
            "upsert_device",
            json!({"localpart": "alice", "device_id": "AAA"}),
        ),
        (
            "upsert_device",
            json!({"localpart": "alice", "device_id": "AAA", "display_name": "Phone"}),
        ),
        (
            "update_device_display_name",
            json!({"localpart": "alice", "device_id": "AAA", "display_name": "Laptop"}),
        ),
        (
            "delete_device",
            json!({"localpart": "alice", "device_id": "AAA"}),
        ),
        (
            "sync_devices",
            json!({"localpart": "alice", "devices": ["AAA", "BBB"]}),
        ),
    ]
    .map(|(endpoint, body)| (format!("/_synapse/mas/{endpoint}"), Some(body)));
    assert_eq!(sent, expected);
}

#[tokio::test]
async fn the_localpart_is_percent_encoded_in_the_query_string() {
    let fake = FakeHomeserver::answering(
        200,
        r#"{"user_id":"@a:example.org","display_name":null,"avatar_url":null,"is_suspended":false,"is_deactivated":false}"#,
    )
    .await;

    fake.connection()
        .query_user("a&b=c d")
        .await
        .expect("200 is a success");

    let request = fake.only_request();
    assert_eq!(request.method, Method::GET);
    assert_eq!(request.path, "/_synapse/mas/query_user");
    assert_eq!(request.query.as_deref(), Some("localpart=a%26b%3Dc+d"));
}

#[tokio::test]
async fn an_endpoint_with_a_path_prefix_keeps_it() {
    let fake = FakeHomeserver::answering(200, "{}").await;
    let endpoint = fake.url.join("matrix").expect("a relative path joins");

    let connection =
        SynapseConnection::new("example.org", &endpoint, SECRET).expect("the URL is valid");
    connection.reactivate_user("alice").await.expect("success");

    assert_eq!(
        fake.only_request().path,
        "/matrix/_synapse/mas/reactivate_user"
    );
}

// ---------------------------------------------------------------- answers --

#[tokio::test]
async fn a_user_the_homeserver_does_not_know_is_none() {
    let fake =
        FakeHomeserver::answering(404, r#"{"errcode":"M_NOT_FOUND","error":"User not found"}"#)
            .await;

    let user = fake.connection().query_user("nobody").await;

    assert_eq!(user.expect("404 M_NOT_FOUND is not an error"), None);
}

#[tokio::test]
async fn each_refusal_of_a_localpart_comes_with_its_reason() {
    for (body, expected) in [
        (
            r#"{"errcode":"M_USER_IN_USE","error":"User ID already taken."}"#,
            LocalpartAvailability::InUse,
        ),
        (
            r#"{"errcode":"M_INVALID_USERNAME","error":"bad characters"}"#,
            LocalpartAvailability::Invalid {
                reason: "bad characters".to_owned(),
            },
        ),
        (
            r#"{"errcode":"M_EXCLUSIVE","error":"reserved by a bridge"}"#,
            LocalpartAvailability::Exclusive {
                reason: "reserved by a bridge".to_owned(),
            },
        ),
    ] {
        let fake = FakeHomeserver::answering(400, body).await;

        let availability = fake
            .connection()
            .is_localpart_available("alice")
            .await
            .expect("a refusal of the localpart is an answer, not an error");

        assert!(!availability.is_available());
        assert_eq!(availability, expected);
    }
}

#[tokio::test]
async fn a_forbidden_answer_means_the_secret_is_wrong_and_names_matrix_secret() {
    let fake = FakeHomeserver::answering(
        403,
        r#"{"errcode":"M_UNKNOWN","error":"This endpoint must only be called by MAS"}"#,
    )
    .await;

    let error = fake
        .connection()
        .reactivate_user("alice")
        .await
        .expect_err("403 is an error");

    assert!(
        matches!(error, HomeserverError::SecretRefused { status: 403, .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("`matrix.secret`"), "{error}");
}

#[tokio::test]
async fn a_user_unknown_to_a_write_is_not_found_and_not_retryable() {
    let fake =
        FakeHomeserver::answering(404, r#"{"errcode":"M_NOT_FOUND","error":"User not found"}"#)
            .await;

    let error = fake
        .connection()
        .set_displayname("nobody", "Nobody")
        .await
        .expect_err("404 is an error for a write");

    assert!(
        matches!(error, HomeserverError::NotFound { .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("user `nobody`"), "{error}");
}

#[tokio::test]
async fn a_404_without_a_matrix_error_means_the_api_is_missing() {
    let fake = FakeHomeserver::answering(404, "<html>No Such Resource</html>").await;

    let error = fake
        .connection()
        .query_user("alice")
        .await
        .expect_err("a missing API is not a missing user");

    assert!(
        matches!(error, HomeserverError::ApiMissing { .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("Synapse 1.136"), "{error}");
}

#[tokio::test]
async fn a_matrix_error_in_a_4xx_is_refused_and_not_retryable() {
    let fake = FakeHomeserver::answering(
        400,
        r#"{"errcode":"M_INVALID_USERNAME","error":"User ID can only contain characters a-z"}"#,
    )
    .await;

    let error = fake
        .connection()
        .provision_user(&ProvisionRequest::new("Bad Name"))
        .await
        .expect_err("400 is an error");

    match &error {
        HomeserverError::Refused {
            status,
            errcode,
            message,
            ..
        } => {
            assert_eq!(*status, 400);
            assert_eq!(errcode, "M_INVALID_USERNAME");
            assert!(message.contains("a-z"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_server_error_is_retryable() {
    let fake = FakeHomeserver::answering(
        500,
        r#"{"errcode":"M_UNKNOWN","error":"Internal server error"}"#,
    )
    .await;

    let error = fake
        .connection()
        .reactivate_user("alice")
        .await
        .expect_err("500 is an error");

    assert!(
        matches!(error, HomeserverError::ServerError { status: 500, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn rate_limiting_is_retryable_and_keeps_the_delay() {
    let fake = FakeHomeserver::answering(
        429,
        r#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":1500}"#,
    )
    .await;

    let error = fake
        .connection()
        .reactivate_user("alice")
        .await
        .expect_err("429 is an error");

    assert!(
        matches!(
            error,
            HomeserverError::RateLimited {
                retry_after_ms: Some(1500),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let fake =
        FakeHomeserver::start(302, "", Some("http://elsewhere.invalid/"), Duration::ZERO).await;

    let error = fake
        .connection()
        .reactivate_user("alice")
        .await
        .expect_err("a redirect is an error");

    assert!(
        matches!(
            error,
            HomeserverError::UnexpectedResponse { status: 302, .. }
        ),
        "{error:?}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_success_with_an_unreadable_body_is_an_unexpected_response() {
    let fake = FakeHomeserver::answering(200, "<html>a captive portal</html>").await;

    let error = fake
        .connection()
        .query_user("alice")
        .await
        .expect_err("the body is not a user");

    assert!(
        matches!(
            error,
            HomeserverError::UnexpectedResponse { status: 200, .. }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_homeserver_slower_than_the_timeout_gives_a_retryable_timeout() {
    let fake = FakeHomeserver::start(200, "{}", None, Duration::from_secs(5)).await;

    let error = fake
        .connection()
        .with_timeout(Duration::from_millis(200))
        .reactivate_user("alice")
        .await
        .expect_err("the answer comes too late");

    assert!(
        matches!(error, HomeserverError::TimedOut { .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn an_unreachable_homeserver_gives_a_retryable_error() {
    let connection = SynapseConnection::new("example.org", &closed_port_url().await, SECRET)
        .expect("the URL is valid");

    let error = connection
        .query_user("alice")
        .await
        .expect_err("nothing listens there");

    assert!(
        matches!(error, HomeserverError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(error.to_string().contains("matrix.endpoint"), "{error}");
}

// -------------------------------------------------------------- read-only --

#[tokio::test]
async fn the_read_only_connection_sends_no_write_at_all() {
    let fake = FakeHomeserver::answering(200, "{}").await;
    let connection = ReadOnlyConnection::new(fake.connection());
    let devices = BTreeSet::new();

    let errors = [
        connection
            .provision_user(&ProvisionRequest::new("alice"))
            .await
            .map(|_| ()),
        connection.delete_user("alice", false).await,
        connection.reactivate_user("alice").await,
        connection.set_displayname("alice", "Alice").await,
        connection.unset_displayname("alice").await,
        connection
            .upsert_device("alice", "AAA", None)
            .await
            .map(|_| ()),
        connection
            .update_device_display_name("alice", "AAA", "Phone")
            .await,
        connection.delete_device("alice", "AAA").await,
        connection.sync_devices("alice", &devices).await,
        connection.allow_cross_signing_reset("alice").await,
    ];

    for result in errors {
        let error = result.expect_err("a write is refused");
        assert!(
            matches!(error, HomeserverError::ReadOnly { .. }),
            "{error:?}"
        );
        assert!(!error.is_retryable());
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

// ------------------------------------------------------------------ set-up --

fn config(kind: HomeserverKind, endpoint: &Url) -> MatrixConfig {
    MatrixConfig {
        kind,
        homeserver: "example.org".to_owned(),
        endpoint: endpoint.clone(),
        ..MatrixConfig::default()
    }
}

#[tokio::test]
async fn synapse_legacy_is_refused_with_a_message_that_says_what_to_use() {
    let endpoint = Url::parse("http://localhost:8008/").expect("a valid URL");

    let error = connection_from_config(
        &config(HomeserverKind::SynapseLegacy, &endpoint),
        SECRET.to_owned(),
    )
    .expect_err("legacy is not implemented");

    assert_eq!(
        error.to_string(),
        "matrix.kind `synapse_legacy` is not supported yet: use `synapse` with Synapse 1.136 or later"
    );
}

#[tokio::test]
async fn synapse_and_synapse_modern_write_and_synapse_read_only_does_not() {
    let fake = FakeHomeserver::answering(200, "{}").await;

    for (kind, writes) in [
        (HomeserverKind::Synapse, true),
        (HomeserverKind::SynapseModern, true),
        (HomeserverKind::SynapseReadOnly, false),
    ] {
        let connection = connection_from_config(&config(kind, &fake.url), SECRET.to_owned())
            .expect("this kind is supported");
        assert_eq!(connection.server_name(), "example.org");

        let written = connection.reactivate_user("alice").await;
        assert_eq!(written.is_ok(), writes, "{kind:?}: {written:?}");
    }
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn an_empty_secret_is_refused_at_start_up() {
    let endpoint = Url::parse("http://localhost:8008/").expect("a valid URL");

    let error = connection_from_config(&config(HomeserverKind::Synapse, &endpoint), String::new())
        .expect_err("an empty secret cannot authenticate");

    assert!(error.to_string().contains("`matrix.secret`"), "{error}");
}

#[tokio::test]
async fn the_debug_output_never_shows_the_secret() {
    let endpoint = Url::parse("http://localhost:8008/").expect("a valid URL");

    let connection = connection_from_config(
        &config(HomeserverKind::SynapseReadOnly, &endpoint),
        SECRET.to_owned(),
    )
    .expect("read-only is supported");

    let debug = format!("{connection:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
}

#[tokio::test]
async fn mxid_and_localpart_are_inverse_for_this_server_only() {
    let fake = FakeHomeserver::answering(200, "{}").await;
    let connection = fake.connection();

    assert_eq!(connection.mxid("alice"), "@alice:example.org");
    assert_eq!(connection.localpart("@alice:example.org"), Some("alice"));
    assert_eq!(connection.localpart("@alice:other.example.org"), None);
    assert_eq!(connection.localpart("@alice:evilexample.org"), None);
    assert_eq!(connection.localpart("alice:example.org"), None);
    assert_eq!(connection.localpart("@:example.org"), None);
}

#[tokio::test]
async fn a_provisioning_that_lost_a_race_to_create_the_user_is_made_again_as_an_update() {
    // A sign-in provisions a new user while their queued job does the same: Synapse creates the
    // user for one and answers the other M_USER_IN_USE. The user exists: that is success.
    let fake = FakeHomeserver::answering_first(
        400,
        r#"{"errcode":"M_USER_IN_USE","error":"User ID already taken."}"#,
        200,
        "{}",
    )
    .await;

    let outcome = fake
        .connection()
        .provision_user(&ProvisionRequest::new("alice"))
        .await;

    assert_eq!(outcome.expect("the user exists"), UpsertOutcome::Updated);
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "sent again once");
    assert_eq!(requests[0].body, requests[1].body, "the same request");
}

#[tokio::test]
async fn a_user_id_taken_twice_is_still_an_error() {
    let fake = FakeHomeserver::answering(
        400,
        r#"{"errcode":"M_USER_IN_USE","error":"User ID already taken."}"#,
    )
    .await;

    let outcome = fake
        .connection()
        .provision_user(&ProvisionRequest::new("alice"))
        .await;

    assert!(
        matches!(outcome, Err(HomeserverError::Refused { .. })),
        "{outcome:?}"
    );
    assert_eq!(fake.requests().len(), 2, "no loop");
}
