//! The routers, driven in-process with real requests and a real SQLite database.

use crate::common::app;
use axum::{
    body::{Body, to_bytes},
    http::{Request, StatusCode},
};
use portcullis_config::sections::http::{Resource, ResourceName};
use portcullis_http::{Mounted, router};
use tower::ServiceExt as _;

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
    let app = app().await;
    let app = router(
        &[Resource::new(ResourceName::Health)],
        None,
        app.state.clone(),
        &Mounted::default(),
    )
    .expect("available");
    assert_eq!(
        get(app, "/health").await,
        (StatusCode::OK, "ok\n".to_owned())
    );
}

#[tokio::test]
async fn health_is_unavailable_when_the_database_is_gone() {
    let app = app().await;
    let state = app.state.clone();
    app.database.close().await;
    let app = router(
        &[Resource::new(ResourceName::Health)],
        None,
        state,
        &Mounted::default(),
    )
    .expect("available");
    let (status, _) = get(app, "/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_route_of_a_resource_the_listener_does_not_serve_is_not_found() {
    let app = app().await;
    let app = router(
        &[Resource::new(ResourceName::ConnectionInfo)],
        None,
        app.state.clone(),
        &Mounted::default(),
    )
    .expect("available");
    let (status, _) = get(app, "/health").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_prefix_moves_the_routes_under_it() {
    let app = app().await;
    let state = app.state.clone();
    let resources = [Resource::new(ResourceName::Health)];
    let app = router(&resources, Some("/auth/"), state, &Mounted::default()).expect("available");
    assert_eq!(get(app.clone(), "/auth/health").await.0, StatusCode::OK);
    assert_eq!(get(app, "/health").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_resource_the_program_did_not_mount_is_refused_with_its_name() {
    let app = app().await;
    let resources = [
        Resource::new(ResourceName::Health),
        Resource::new(ResourceName::Prometheus),
    ];
    let error = router(&resources, None, app.state.clone(), &Mounted::default())
        .expect_err("no metrics were mounted");
    assert_eq!(error.name, "prometheus");
    assert!(
        error.to_string().contains("metrics were not set up"),
        "says why: {error}"
    );
}

#[tokio::test]
async fn the_discovery_document_names_the_issuer_and_the_account_page() {
    let app = app().await;
    let app = router(
        &[Resource::new(ResourceName::Discovery)],
        None,
        app.state.clone(),
        &Mounted::default(),
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
    let app = app().await;
    let app = router(
        &[Resource::new(ResourceName::Discovery)],
        None,
        app.state.clone(),
        &Mounted::default(),
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

#[tokio::test]
async fn the_default_mas_listener_starts_with_assets_and_an_unserved_graphql() {
    let app = app().await;
    let resources: Vec<Resource> = [
        ResourceName::Discovery,
        ResourceName::Human,
        ResourceName::OAuth,
        ResourceName::Compat,
        ResourceName::GraphQl,
        ResourceName::Assets,
    ]
    .into_iter()
    .map(Resource::new)
    .collect();
    let with_pages = router(&resources, None, app.state.clone(), &Mounted::default())
        .expect("MAS's default builds");
    let (status, body) = get(with_pages.clone(), "/assets/portcullis.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains('{'), "a stylesheet: {body}");
    let (status, body) = get(with_pages, "/graphql").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("no GraphQL API"), "{body}");

    // The assets alone, on a listener without pages, still serve the stylesheet.
    let assets_only = router(
        &[Resource::new(ResourceName::Assets)],
        None,
        app.state.clone(),
        &Mounted::default(),
    )
    .expect("assets builds");
    assert_eq!(
        get(assets_only, "/assets/portcullis.css").await.0,
        StatusCode::OK
    );
}
