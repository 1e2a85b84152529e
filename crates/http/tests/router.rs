//! The routers, driven in-process with real requests and a real SQLite database.

use axum::{
    body::{Body, to_bytes},
    http::{Request, StatusCode},
};
use portcullis_config::sections::http::{Resource, ResourceName};
use portcullis_http::{
    AppParts, AppState, router, site_config::SiteConfig, url_builder::UrlBuilder,
};
use portcullis_keys::{Encrypter, EncryptionKey, Keystore, PrivateKey};
use portcullis_storage_sql::{ConnectOptions, Database, PoolOptions};
use tower::ServiceExt as _;

const TEST_CONFIG: &str = "http:\n  public_base: https://auth.example.com/\n  issuer: https://example.com/\nsecrets:\n  encryption: 0000000000000000000000000000000000000000000000000000000000000000\n  keys:\n    - key: dummy\nmatrix:\n  homeserver: example.com\n  secret: s\n";

async fn state(dir: &tempfile::TempDir) -> AppState {
    let options = ConnectOptions::Sqlite {
        path: dir.path().join("http.db"),
    };
    let database = Database::connect(&options, &PoolOptions::default())
        .await
        .expect("SQLite opens");
    let config = portcullis_config::load_documents(
        &[("test.yaml".to_owned(), TEST_CONFIG.to_owned())],
        dir.path().to_owned(),
        &|_| None,
    )
    .expect("the test configuration is valid")
    .config;
    let key = PrivateKey::load(
        include_bytes!("../../config/tests/fixtures/keys/rsa-2048.pkcs1.pem"),
        None,
    )
    .expect("the fixture key loads");
    AppState::new(AppParts {
        database,
        trusted_proxies: vec!["127.0.0.0/8".parse().expect("valid range")],
        urls: UrlBuilder::new(
            config.http.public_base.clone(),
            config.http.issuer().clone(),
        ),
        site: SiteConfig::from_config(&config),
        keystore: Keystore::new(vec![(Some("k1".to_owned()), key)]).expect("one key"),
        encrypter: Encrypter::new(EncryptionKey::from_hex(&"ab".repeat(32)).expect("valid key")),
    })
}

async fn get(app: axum::Router, uri: &str) -> (StatusCode, String) {
    let request = Request::get(uri)
        .body(Body::empty())
        .expect("valid request");
    let response = app.oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("readable body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn health_is_ok_while_the_database_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = router(
        &[Resource::new(ResourceName::Health)],
        None,
        state(&dir).await,
    )
    .expect("available");
    assert_eq!(
        get(app, "/health").await,
        (StatusCode::OK, "ok\n".to_owned())
    );
}

#[tokio::test]
async fn health_is_unavailable_when_the_database_is_gone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = state(&dir).await;
    state.database().close().await;
    let app = router(&[Resource::new(ResourceName::Health)], None, state).expect("available");
    let (status, _) = get(app, "/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_route_of_a_resource_the_listener_does_not_serve_is_not_found() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = router(
        &[Resource::new(ResourceName::ConnectionInfo)],
        None,
        state(&dir).await,
    )
    .expect("available");
    let (status, _) = get(app, "/health").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_prefix_moves_the_routes_under_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = state(&dir).await;
    let resources = [Resource::new(ResourceName::Health)];
    let app = router(&resources, Some("/auth/"), state).expect("available");
    assert_eq!(get(app.clone(), "/auth/health").await.0, StatusCode::OK);
    assert_eq!(get(app, "/health").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_resource_not_built_yet_is_refused_with_its_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let resources = [
        Resource::new(ResourceName::Health),
        Resource::new(ResourceName::GraphQl),
    ];
    let error = router(&resources, None, state(&dir).await).expect_err("graphql is not available");
    assert_eq!(error.name, "graphql");
    assert!(
        error.to_string().contains("health"),
        "lists what is available: {error}"
    );
}

#[tokio::test]
async fn the_discovery_document_names_the_issuer_and_the_account_page() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = router(
        &[Resource::new(ResourceName::Discovery)],
        None,
        state(&dir).await,
    )
    .expect("available");
    let (status, body) = get(app.clone(), "/.well-known/openid-configuration").await;
    assert_eq!(status, StatusCode::OK);
    let metadata: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(metadata["issuer"], "https://example.com/");
    assert_eq!(
        metadata["account_management_uri"],
        "https://auth.example.com/account/"
    );
    assert_eq!(
        metadata["id_token_signing_alg_values_supported"][0],
        "RS256"
    );
    let (_, rfc8414) = get(app, "/.well-known/oauth-authorization-server").await;
    assert_eq!(
        rfc8414, body,
        "both well-known paths serve the same document"
    );
}

#[tokio::test]
async fn webfinger_points_at_the_issuer_and_needs_a_resource() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = router(
        &[Resource::new(ResourceName::Discovery)],
        None,
        state(&dir).await,
    )
    .expect("available");
    let (status, body) = get(
        app.clone(),
        "/.well-known/webfinger?resource=acct:alice@example.com&rel=http%3A%2F%2Fopenid.net%2Fspecs%2Fconnect%2F1.0%2Fissuer",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let jrd: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(jrd["subject"], "acct:alice@example.com");
    assert_eq!(jrd["links"][0]["href"], "https://example.com/");
    assert_eq!(
        get(app, "/.well-known/webfinger").await.0,
        StatusCode::BAD_REQUEST
    );
}
