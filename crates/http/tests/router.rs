//! The routers, driven in-process with real requests and a real SQLite database.

use axum::{
    body::{Body, to_bytes},
    http::{Request, StatusCode},
};
use portcullis_config::sections::http::{Resource, ResourceName};
use portcullis_http::{AppState, router};
use portcullis_storage_sql::{ConnectOptions, Database, PoolOptions};
use tower::ServiceExt as _;

async fn state(dir: &tempfile::TempDir) -> AppState {
    let options = ConnectOptions::Sqlite {
        path: dir.path().join("http.db"),
    };
    let database = Database::connect(&options, &PoolOptions::default())
        .await
        .expect("SQLite opens");
    AppState::new(database, vec!["127.0.0.0/8".parse().expect("valid range")])
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
