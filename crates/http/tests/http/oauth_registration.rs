//! Dynamic client registration (RFC 7591) with the Matrix rules of MSC2966.

use crate::common::{app, body_json};
use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use serde_json::{Value, json};

fn register(body: &Value) -> Request<Body> {
    Request::post("/oauth2/registration")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("valid request")
}

fn element_x() -> Value {
    json!({
        "client_name": "Element X",
        "client_uri": "https://element.io",
        "application_type": "native",
        "redirect_uris": ["io.element:/callback"],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
        "response_types": ["code"],
    })
}

#[tokio::test]
async fn a_native_public_client_registers_and_gets_its_metadata_back() {
    let app = app().await;
    let response = app.send(register(&element_x())).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap_or_default()),
        Some("no-store")
    );
    let body = body_json(response).await;
    assert!(body["client_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(
        body.get("client_secret").is_none(),
        "public clients get no secret"
    );
    assert_eq!(body["redirect_uris"], json!(["io.element:/callback"]));
    assert_eq!(body["token_endpoint_auth_method"], "none");
}

#[tokio::test]
async fn the_same_public_metadata_registered_twice_gives_the_same_client() {
    let app = app().await;
    let first = body_json(app.send(register(&element_x())).await).await;
    let second = body_json(app.send(register(&element_x())).await).await;
    assert_eq!(first["client_id"], second["client_id"]);
}

#[tokio::test]
async fn a_confidential_web_client_gets_a_secret_stored_encrypted() {
    let app = app().await;
    let metadata = json!({
        "client_name": "Web App",
        "client_uri": "https://app.example.com/",
        "redirect_uris": ["https://app.example.com/callback"],
        "token_endpoint_auth_method": "client_secret_basic",
    });
    let body = body_json(app.send(register(&metadata)).await).await;
    let secret = body["client_secret"].as_str().expect("a secret").to_owned();
    let client_id = body["client_id"].as_str().expect("an id").to_owned();

    let mut repo = app.database.transaction().await.expect("tx");
    let client = repo
        .oauth_clients()
        .find_by_client_id(&client_id)
        .await
        .expect("ok")
        .expect("stored");
    let stored = client.encrypted_client_secret.expect("a secret is stored");
    assert!(!stored.contains(&secret), "never in clear");
    assert_eq!(
        app.state.encrypter().decrypt(&stored).expect("decrypts"),
        secret.as_bytes()
    );
}

#[tokio::test]
async fn a_web_redirect_uri_on_another_host_is_refused_naming_the_field() {
    let app = app().await;
    let metadata = json!({
        "client_uri": "https://app.example.com/",
        "redirect_uris": ["https://app.example.com/cb", "https://evil.example/cb"],
    });
    let response = app.send(register(&metadata)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = body_json(response).await;
    assert_eq!(body["error"], "invalid_redirect_uri");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("redirect_uris[1]")),
        "{body}"
    );
}

#[tokio::test]
async fn a_client_that_claims_a_whole_public_suffix_is_refused() {
    let app = app().await;
    let metadata = json!({
        "client_uri": "https://github.io/",
        "redirect_uris": ["https://github.io/cb"],
    });
    let response = app.send(register(&metadata)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = body_json(response).await;
    assert_eq!(body["error"], "invalid_client_metadata");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("client_uri") && d.contains("public suffix")),
        "{body}"
    );
}

#[tokio::test]
async fn a_github_pages_client_may_not_redirect_to_another_github_pages_site() {
    let app = app().await;
    let mine = json!({
        "client_uri": "https://alice.github.io/",
        "redirect_uris": ["https://alice.github.io/cb"],
    });
    assert_eq!(
        app.send(register(&mine)).await.status(),
        StatusCode::CREATED
    );
    let theirs = json!({
        "client_uri": "https://alice.github.io/",
        "redirect_uris": ["https://bob.github.io/cb"],
    });
    let body = body_json(app.send(register(&theirs)).await).await;
    assert_eq!(body["error"], "invalid_redirect_uri", "{body}");
}

#[tokio::test]
async fn a_client_without_client_uri_is_refused() {
    let app = app().await;
    let response = app
        .send(register(
            &json!({"redirect_uris": ["https://app.example.com/cb"]}),
        ))
        .await;
    let body = body_json(response).await;
    assert_eq!(body["error"], "invalid_client_metadata");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("client_uri")),
        "{body}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_invalid_client_metadata() {
    let app = app().await;
    let request = Request::post("/oauth2/registration")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .expect("valid request");
    let response = app.send(request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(response).await["error"],
        "invalid_client_metadata"
    );
}

#[tokio::test]
async fn localized_names_are_kept() {
    let app = app().await;
    let mut metadata = element_x();
    metadata["client_name#fr"] = json!("Élément X");
    let body = body_json(app.send(register(&metadata)).await).await;
    let client_id = body["client_id"].as_str().expect("an id").to_owned();
    let mut repo = app.database.transaction().await.expect("tx");
    let client = repo
        .oauth_clients()
        .find_by_client_id(&client_id)
        .await
        .expect("ok")
        .expect("stored");
    assert_eq!(
        client.localized.get("client_name#fr").map(String::as_str),
        Some("Élément X")
    );
}

#[tokio::test]
async fn the_device_grant_is_dropped_when_the_server_does_not_offer_it() {
    let app =
        crate::common::app_with(|config| config.oauth.device_code_grant_enabled = false).await;
    let body = body_json(app.send(register(&element_x())).await).await;
    assert!(
        !body["grant_types"].to_string().contains("device_code"),
        "{body}"
    );
}
